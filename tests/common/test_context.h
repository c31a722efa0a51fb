// The CPU context the tests run their ops with: one per test binary (product code passes its
// own explicitly; tests share this one so that a call site stays one line).
#pragma once
#include "ops/context.h"

namespace osp::test {

inline ops::Context& ctx() {
  static ops::Context c = ops::Context::cpu();
  return c;
}

}  // namespace osp::test
