// Embedding entries.
#include "ops/embedding.h"

#include "ops/dispatch.h"

namespace osp::ops {

void embedding_forward(Context& ctx, TensorView out, TensorView tokens, TensorView table) {
  const char* op = "embedding_forward";
  for (const TensorView* v : {&out, &tokens, &table}) detail::expect_on(ctx, *v, op, "operand");
  detail::expect_dtype(tokens, {DType::kI32}, op, "tokens");
  detail::expect_dtype(table, {DType::kF32, DType::kF64}, op, "table");
  if (out.dtype() != DType::kBF16) detail::expect_same_dtype(out, table, op);
  detail::expect_matrix(out, tokens.numel(), table.cols(), op, "out");
  OSP_DISPATCH(ctx, embedding_forward, ctx, out, tokens, table);
}

void embedding_backward(Context& ctx, TensorView dtable, TensorView dout, TensorView tokens) {
  const char* op = "embedding_backward";
  for (const TensorView* v : {&dtable, &dout, &tokens}) detail::expect_on(ctx, *v, op, "operand");
  detail::expect_dtype(tokens, {DType::kI32}, op, "tokens");
  detail::expect_dtype(dtable, {DType::kF32, DType::kF64}, op, "dtable");
  detail::expect_same_dtype(dtable, dout, op);
  detail::expect_matrix(dout, tokens.numel(), dtable.cols(), op, "dout");
  OSP_DISPATCH(ctx, embedding_backward, ctx, dtable, dout, tokens);
}

}  // namespace osp::ops
