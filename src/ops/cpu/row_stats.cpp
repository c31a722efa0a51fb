// CPU activation statistics (measurement.md §1.4): per row, excess kurtosis and max |x|/RMS.
#include <algorithm>
#include <cmath>

#include "ops/cpu/backend.h"

namespace osp::ops::cpu {
namespace {

// Raw 4th moment (NOT centred: §1.4, quirk K2) over the squared centred unbiased variance, − 3.
double excess_kurtosis(const float* x, int64_t d) {
  double s1 = 0, s4 = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double v = x[j];
    s1 += v;
    s4 += (v * v) * (v * v);
  }
  const double mu = s1 / double(d);
  double c2 = 0;
  for (int64_t j = 0; j < d; ++j) c2 += (double(x[j]) - mu) * (double(x[j]) - mu);
  if (d < 2 || c2 == 0) return NAN;
  const double var = c2 / double(d - 1);
  return (s4 / double(d)) / (var * var) - 3.0;
}

}  // namespace

void activation_row_stats(Context&, TensorView kurtosis, TensorView max_ratio, TensorView max_channel, TensorView x) {
  const float* base = x.data<float>();
  double *k = kurtosis.data<double>(), *ratio = max_ratio.data<double>();
  int32_t* chan = max_channel.data<int32_t>();
  const int64_t rows = x.rows(), dim = x.cols();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < rows; ++i) {
    const float* v = base + i * x.ld();
    k[i] = excess_kurtosis(v, dim);
    double ss = 0, best = -1;
    int64_t arg = -1;
    for (int64_t j = 0; j < dim; ++j) {
      ss += double(v[j]) * double(v[j]);
      if (std::abs(double(v[j])) > best) best = std::abs(double(v[j])), arg = j;
    }
    const double rms = std::sqrt(ss / double(dim));
    ratio[i] = rms > 0 ? best / rms : 0;
    chan[i] = int32_t(arg);
  }
}

void column_abs_max(Context&, TensorView channel_max, TensorView x) {
  const float* base = x.data<float>();
  double* mx = channel_max.data<double>();
  const int64_t d = x.cols();
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < d; ++j)
    for (int64_t r = 0; r < x.rows(); ++r) mx[j] = std::max(mx[j], double(std::abs(base[r * x.ld() + j])));
}

void column_abs_sum(Context&, TensorView channel_sum, TensorView x) {
  const float* base = x.data<float>();
  double* sum = channel_sum.data<double>();
  const int64_t d = x.cols();
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < d; ++j) {
    double s = 0;
    for (int64_t r = 0; r < x.rows(); ++r) s += std::abs(double(base[r * x.ld() + j]));
    sum[j] += s;
  }
}

}  // namespace osp::ops::cpu
