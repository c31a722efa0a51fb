"""bf16 mixed precision of the C++ engine against the PyTorch reference (llama_ref.py) under CPU
autocast bf16, both measured against the float64 reference.

The C++ side is osp_ref_dump with "precision": "bf16" in its config (the contract of
test_reference_model.py otherwise): bf16 GEMM operands with fp32 accumulation over fp32 master
weights (docs/engine.md). PyTorch runs the same float32 parameters with its forward under
torch.autocast("cpu", dtype=torch.bfloat16), the way a user runs mixed precision on a CPU.

Tolerance, derived from bf16's unit roundoff u = 2^-8 (tests/common/tolerance.h has the same
rule for single ops): each GEMM stage perturbs its result by about 3u (2u from its rounded
operands, u from a stored bf16 activation); S stages in sequence add in quadrature, so a tensor
is within SAFETY * sqrt(S) * 3u of float64, with S = 4 per layer (qkv, o, gate/up, down) plus the
head and R1/R2, and twice that for gradients (the backward runs the chain again). Beyond the
bound, osp must be no less accurate than PyTorch's own autocast: its worst tensor no worse than
autocast's worst, and its logits within 1.5x of autocast's (osp keeps every GEMM output in fp32,
autocast rounds them to bf16). And the bf16 run must really round: its logits sit further from
float64 than the fp32 engine's tolerance.
"""
import functools
import math

import numpy as np
import pytest
import torch

import dump_harness
import llama_ref as ref
from test_reference_model import MODEL_KEYS

U_BF16 = 2.0 ** -8
SAFETY = 4.0
FP32_TOL = 1e-4  # test_reference_model.py's tolerance for the fp32 engine

CONFIGS = {
    "adam_rms_untied": dict(layers=2, hidden=64, heads=4, kv_heads=4, ffn=160, vocab=97,
                            rope_theta=10000.0, norm_eps=1e-5, norm="rms", emb_proj=False,
                            tie=False, batch=2, seq=16),
    "osp_ssnorm_embproj_gqa": dict(layers=3, hidden=96, heads=6, kv_heads=2, ffn=256, vocab=211,
                                   rope_theta=10000.0, norm_eps=1e-5, norm="ssnorm",
                                   emb_proj=True, tie=False, batch=2, seq=24),
    "tied_embproj": dict(layers=2, hidden=48, heads=4, kv_heads=2, ffn=128, vocab=150,
                         rope_theta=500000.0, norm_eps=1e-6, norm="rms", emb_proj=True,
                         tie=True, batch=3, seq=11),
}


def stages(cfg):
    return 4 * cfg["layers"] + 1 + (2 if cfg["emb_proj"] else 0)


def tolerance(cfg, backward):
    return SAFETY * math.sqrt(stages(cfg) * (2 if backward else 1)) * 3 * U_BF16


def run_reference(params_np, cfg, ids, targets, dtype, autocast):
    params = {k: torch.from_numpy(np.asarray(v)).to(dtype).requires_grad_() for k, v in params_np.items()}
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        logits = ref.forward(params, cfg, torch.from_numpy(ids).long())
        loss = ref.loss(logits, torch.from_numpy(targets).long())
    loss.backward()
    grads = {k: (p.grad if p.grad is not None else torch.zeros_like(p)).double() for k, p in params.items()}
    return logits.detach().double(), loss.detach().double(), grads


@functools.lru_cache(maxsize=None)
def run_case(name):
    cfg = CONFIGS[name]
    dump = dump_harness.run_dump("osp_ref_dump", dict(cfg, precision="bf16"), 2000 + sorted(CONFIGS).index(name))
    model_cfg = {k: cfg[k] for k in MODEL_KEYS}
    params = {k: dump[k] for k in ref.param_shapes(model_cfg)}
    args = (params, model_cfg, dump["input_ids"], dump["targets"])
    return dump, run_reference(*args, torch.float64, False), run_reference(*args, torch.float32, True)


@pytest.fixture(params=sorted(CONFIGS))
def case(request):
    return (request.param, CONFIGS[request.param]) + run_case(request.param)


def errors(dump, truth, autocast, shapes):
    """(name, osp error, autocast error) for the logits, the loss and every gradient."""
    out = [("logits", ref.rel_err(torch.from_numpy(dump["out.logits"]).double(), truth[0]),
            ref.rel_err(autocast[0], truth[0])),
           ("loss", ref.rel_err(torch.tensor(float(dump["out.loss"])).double(), truth[1]),
            ref.rel_err(autocast[1], truth[1]))]
    for k in shapes:
        out.append(("grad." + k, ref.rel_err(torch.from_numpy(dump["grad." + k]).double(), truth[2][k]),
                    ref.rel_err(autocast[2][k], truth[2][k])))
    return out


def test_within_the_derived_bf16_tolerance(case):
    name, cfg, dump, truth, autocast = case
    shapes = ref.param_shapes({k: cfg[k] for k in MODEL_KEYS})
    bad = [f"{what}: {e:.2e} > {tolerance(cfg, what.startswith('grad.')):.2e} (autocast {ea:.2e})"
           for what, e, ea in errors(dump, truth, autocast, shapes)
           if e > tolerance(cfg, what.startswith("grad."))]
    assert not bad, f"{name}:\n" + "\n".join(bad)


def test_no_less_accurate_than_pytorch_autocast(case):
    name, cfg, dump, truth, autocast = case
    shapes = ref.param_shapes({k: cfg[k] for k in MODEL_KEYS})
    errs = errors(dump, truth, autocast, shapes)
    worst_osp, worst_ac = max(e for _, e, _ in errs), max(ea for _, _, ea in errs)
    assert worst_osp <= worst_ac, f"{name}: osp's worst tensor {worst_osp:.2e} > autocast's {worst_ac:.2e}"
    _, logits_osp, logits_ac = errs[0]
    assert logits_osp <= 1.5 * logits_ac, f"{name}: logits {logits_osp:.2e} vs autocast {logits_ac:.2e}"


def test_bf16_really_rounds(case):
    name, _, dump, truth, _ = case
    e = ref.rel_err(torch.from_numpy(dump["out.logits"]).double(), truth[0])
    assert e > FP32_TOL, f"{name}: bf16 logits are {e:.2e} from float64, as close as fp32 would be"
