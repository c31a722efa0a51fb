"""Cross-check of the C++ fp32 engine against the PyTorch reference (llama_ref.py, spec §1).

Contract with the C++ side: $OSP_BUILD_DIR/tests/reference/osp_ref_dump (default build dir
/work/main/build), run as
    osp_ref_dump --config '<json>' --seed N --out FILE.safetensors
with <json> holding the model config keys plus "batch" and "seq". It draws random parameters
(norm gains not all ones), tokens and targets (some -100), runs the fp32 forward and backward and
writes: every parameter under its spec name (f32), "input_ids" and "targets" (B,T) int32,
"out.logits" (B,T,V) f32, "out.loss" () f32 and "grad.<name>" (f32) for every parameter.

The reference recomputes everything in float64 from the dumped parameters and tokens; every
tensor must agree to TOL in llama_ref.rel_err (max|a-b| / max|b|). The same check of the
reference run in float32 shows that honest fp32 rounding sits well inside TOL.
A missing executable FAILS, unless OSP_REF_ALLOW_MISSING=1 (then the C++ cases skip).
"""
import functools

import numpy as np
import pytest
import torch

import dump_harness
import llama_ref as ref

TOL = 1e-4  # fp32 engine vs float64 reference, relative to the tensor's scale
FP32_HEADROOM = 10  # the float32 reference must sit this far inside TOL

# Small shapes that still cover every branch of §1; odd T and V, non-default theta and eps.
# eps = 1e-2 in (e) is large enough that eps outside the sqrt shows above TOL (see selfcheck).
CONFIGS = {
    "a_mha_rms_untied": dict(layers=2, hidden=32, heads=4, kv_heads=4, ffn=64, vocab=64,
                             rope_theta=10000.0, norm_eps=1e-5, norm="rms", emb_proj=False,
                             tie=False, batch=2, seq=8),
    "b_gqa_ssnorm_embproj": dict(layers=2, hidden=32, heads=4, kv_heads=2, ffn=72, vocab=97,
                                 rope_theta=500000.0, norm_eps=1e-6, norm="ssnorm",
                                 emb_proj=True, tie=False, batch=2, seq=13),
    "c_gqa6_rms_tied_embproj": dict(layers=3, hidden=48, heads=6, kv_heads=2, ffn=100,
                                    vocab=211, rope_theta=10000.0, norm_eps=1e-5, norm="rms",
                                    emb_proj=True, tie=True, batch=3, seq=17),
    "d_ssnorm_tied": dict(layers=1, hidden=24, heads=3, kv_heads=3, ffn=40, vocab=50,
                          rope_theta=10000.0, norm_eps=1e-5, norm="ssnorm", emb_proj=False,
                          tie=True, batch=2, seq=5),
    "e_mqa_odd": dict(layers=2, hidden=16, heads=4, kv_heads=1, ffn=44, vocab=299,
                      rope_theta=1000000.0, norm_eps=1e-2, norm="rms", emb_proj=True,
                      tie=False, batch=3, seq=11),
}
MODEL_KEYS = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "rope_theta",
              "norm_eps", "norm", "emb_proj", "tie")


def reference(params_np, config, input_ids, targets, dtype):
    """Logits, loss and autograd gradients of the reference from numpy parameters."""
    params = {k: torch.from_numpy(np.asarray(v)).to(dtype).requires_grad_() for k, v in
              params_np.items()}
    logits = ref.forward(params, config, torch.from_numpy(input_ids).long())
    loss = ref.loss(logits, torch.from_numpy(targets).long())
    loss.backward()
    return (logits.detach(), loss.detach(),
            {k: (p.grad if p.grad is not None else torch.zeros_like(p)) for k, p in
             params.items()})


@functools.lru_cache(maxsize=None)
def run_case(name):
    """Runs the dump once per config and returns (dump, ref64, ref32)."""
    cfg = CONFIGS[name]
    dump = dump_harness.run_dump("osp_ref_dump", cfg, 1000 + sorted(CONFIGS).index(name))
    model_cfg = {k: cfg[k] for k in MODEL_KEYS}
    shapes = ref.param_shapes(model_cfg)
    params = {k: dump[k] for k in shapes if k in dump}
    ids, tgt = dump.get("input_ids"), dump.get("targets")
    if len(params) != len(shapes) or ids is None or tgt is None:
        return dump, None, None  # test_dump_contents reports what is missing
    return (dump, reference(params, model_cfg, ids, tgt, torch.float64),
            reference(params, model_cfg, ids, tgt, torch.float32))


@pytest.fixture(params=sorted(CONFIGS))
def case(request):
    name = request.param
    dump, ref64, ref32 = run_case(name)
    return name, CONFIGS[name], dump, ref64, ref32


def test_dump_contents(case):
    """The file holds exactly the contract's tensors with the spec's names, shapes and dtypes."""
    name, cfg, dump, _, _ = case
    B, T, V = cfg["batch"], cfg["seq"], cfg["vocab"]
    shapes = ref.param_shapes({k: cfg[k] for k in MODEL_KEYS})
    want = {"input_ids": ((B, T), np.int32), "targets": ((B, T), np.int32),
            "out.logits": ((B, T, V), np.float32), "out.loss": ((), np.float32)}
    for k, s in shapes.items():
        want[k] = want["grad." + k] = (tuple(s), np.float32)
    missing = sorted(set(want) - set(dump))
    # Extra parameter-like names mean a naming mismatch (e.g. lm_head.weight in a tied model).
    extra = sorted(k for k in set(dump) - set(want) if k.startswith(("model.", "lm_head", "grad.")))
    assert not missing and not extra, f"{name}: missing {missing}, unexpected {extra}"
    for k, (shape, dtype) in want.items():
        assert dump[k].shape == shape and dump[k].dtype == dtype, \
            f"{name}: {k} is {dump[k].dtype}{dump[k].shape}, want {np.dtype(dtype)}{shape}"
    ids, tgt = dump["input_ids"], dump["targets"]
    assert ids.min() >= 0 and ids.max() < V, f"{name}: input_ids outside [0, {V})"
    counted = tgt != ref.IGNORE_INDEX
    assert ((tgt[counted] >= 0) & (tgt[counted] < V)).all(), f"{name}: bad targets"
    # The contract asks for both kinds of target and for non-trivial gains, without which the
    # ignore-index and gain paths would go unchecked.
    assert counted.any() and not counted.all(), f"{name}: targets need some -100 and some not"
    gains = [k for k in shapes if k.endswith("layernorm.weight") or k == "model.norm.weight"]
    assert any(not np.allclose(dump[k], 1.0) for k in gains), f"{name}: norm gains all ones"


def _check(name, what, cpp, ref64, ref32):
    err, err32 = ref.rel_err(cpp, ref64), ref.rel_err(ref32, ref64)
    assert err32 <= TOL / FP32_HEADROOM, \
        f"{name}: {what}: float32 reference is {err32:.2e} off float64; tolerance too tight"
    assert err <= TOL, f"{name}: {what}: C++ rel err {err:.2e} > {TOL:.0e} (fp32 ref: {err32:.2e})"


def test_logits(case):
    name, _, dump, ref64, ref32 = case
    assert ref64 is not None, "dump incomplete (see test_dump_contents)"
    _check(name, "out.logits", torch.from_numpy(dump["out.logits"]), ref64[0], ref32[0])


def test_loss(case):
    name, _, dump, ref64, ref32 = case
    assert ref64 is not None, "dump incomplete (see test_dump_contents)"
    _check(name, "out.loss", torch.from_numpy(dump["out.loss"]), ref64[1], ref32[1])


def test_gradients(case):
    name, cfg, dump, ref64, ref32 = case
    assert ref64 is not None, "dump incomplete (see test_dump_contents)"
    failures = []
    for k in ref.param_shapes({m: cfg[m] for m in MODEL_KEYS}):
        if "grad." + k not in dump:
            failures.append(f"{name}: grad.{k} missing from the dump")
            continue
        try:
            _check(name, "grad." + k, torch.from_numpy(dump["grad." + k]), ref64[2][k], ref32[2][k])
        except AssertionError as e:  # report every bad gradient, not just the first
            failures.append(str(e))
    assert not failures, "\n".join(failures)
