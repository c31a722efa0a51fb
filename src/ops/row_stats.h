// Statistics of activations for the outlier measurements (measurement.md §1.4): per row, excess
// kurtosis (raw fourth moment over the squared unbiased centred variance, minus 3; fp64 sums; NaN
// when the variance is 0) and max_j |x_j| / rms(x) with its channel; per channel, max |x|.
#pragma once
#include "ops/context.h"

namespace osp::ops {

// x (rows, d) f32; kurtosis and max_ratio (rows) host f64 views; max_channel (rows) i32.
void activation_row_stats(Context& ctx, TensorView kurtosis, TensorView max_ratio, TensorView max_channel,
                          TensorView x);

// channel_max (d) host f64 = max(channel_max, max over rows of |x (rows, d)|): accumulates.
void column_abs_max(Context& ctx, TensorView channel_max, TensorView x);
// channel_sum (d) host f64 += Σ over rows of |x (rows, d)| (fp64 sums): accumulates.
void column_abs_sum(Context& ctx, TensorView channel_sum, TensorView x);

}  // namespace osp::ops
