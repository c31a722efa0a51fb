// Parameter initialisation (osp-method.md §1.10): truncated-normal fan-in rule (or a fixed std),
// N(0, 1/D) embedding, orthogonal R1/R2, unit norm gains. Draws come from the run's generator.
#pragma once
#include "core/rng.h"
#include "model/params.h"

namespace osp::model {

template <class T>
void init_parameters(T* params, const ParamTable& table, const ModelConfig& config, Rng& rng);

// A random orthogonal n×n matrix: A with N(0,1) entries, A = QR, Q·diag(sign(diag R)).
template <class T>
void random_orthogonal(T* out, int64_t n, Rng& rng);

}  // namespace osp::model
