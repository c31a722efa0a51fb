"""Cross-check of the C++ optimizers against the PyTorch reference (optim_ref.py, spec §2).

Contract with the C++ side: $OSP_BUILD_DIR/tests/reference/osp_optim_dump (default build dir
/work/main/build), run as
    osp_optim_dump --config '<json>' --seed N --out FILE.safetensors
with <json> holding the model config keys, "batch", "seq", "steps" and "optim" (groups, adamw,
muon, decay_norms, clip, schedule; every key given explicitly). It draws random parameters, then
for k = 1..steps computes the gradient of the mean cross-entropy on fresh random tokens at the
current parameters, clips it by global norm and takes one optimizer step with the multiplier
s(k). It writes (all f32): "init.<p>", "grad.<k>.<p>" (the RAW gradient of step k, before
clipping), "param.<k>.<p>" (after step k), and the 0-D scalars "grad_norm.<k>" (global L2 norm of
the raw gradient) and "lr_mult.<k>" (the s(k) used).

The reference replays the steps from init.* on the dumped RAW gradients (so the model is not
re-derived here; test_reference_model.py checks the gradients themselves), clipping them itself.
It runs in float64 (the oracle) and float32; every param.<k>.<p> must agree with the oracle to
TOL in llama_ref.rel_err (max|a-b| / max|b| over the tensor), and the float32 replay must sit
FP32_HEADROOM inside TOL, which shows that honest fp32 rounding passes.
A missing executable FAILS, unless OSP_REF_ALLOW_MISSING=1 (then the C++ cases skip).

The second half checks the reference itself without the C++: identities of §2 and deliberately
wrong variants that must exceed TOL on at least one configuration (the tolerance means something).
"""
import functools
import math

import numpy as np
import pytest
import torch

import llama_ref as ref
import dump_harness
import optim_ref as oref

TOL = 1e-5            # parameters after each step, relative to the tensor's scale
FP32_HEADROOM = 10    # the float32 replay must sit this far inside TOL
NORM_TOL = 1e-5       # our global norm vs grad_norm.<k>, relative
MULT_TOL = 1e-6       # our s(k) vs lr_mult.<k>, absolute (s is in [0, 1])
STEPS = 5
F64 = torch.float64

MODEL_KEYS = ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "rope_theta",
              "norm_eps", "norm", "emb_proj", "tie")
# Small shapes: GQA gives wide k/v (no NS transpose), gate/up and the embedding are tall
# (transpose), down is wide, q/o and R1/R2 square.
M_A = dict(layers=2, hidden=32, heads=4, kv_heads=2, ffn=48, vocab=61, rope_theta=10000.0,
           norm_eps=1e-5)
M_B = dict(layers=1, hidden=24, heads=3, kv_heads=3, ffn=40, vocab=50, rope_theta=10000.0,
           norm_eps=1e-5)
# §2.5 defaults; the cases override some. Learning rates are much larger than the defaults so
# that each step moves every tensor by >= 100*TOL of its scale (test_updates_are_resolved): the
# comparison then resolves each update to about 1%.
ADAMW = dict(lr=5e-4, beta1=0.9, beta2=0.95, eps=1e-8, wd=1e-2)
MUON = dict(lr=5e-4, beta=0.95, ns_steps=5, eps=1e-8, wd=1e-2)


def case(model, norm, emb_proj, tie, groups, *, adamw, muon, decay_norms, clip, schedule):
    sched = dict(kind="cosine", total_steps=STEPS, warmup_steps=1, min_ratio=0.1,
                 decay_fraction=0.2)
    sched.update(schedule)
    return dict(model, norm=norm, emb_proj=emb_proj, tie=tie, batch=2, seq=8, steps=STEPS,
                optim=dict(groups=groups, adamw={**ADAMW, **adamw}, muon={**MUON, **muon},
                           decay_norms=decay_norms, clip=clip, schedule=sched))


# clip 0.05 sits far below the raw norms (~1-3), so it clips at every step; clip 100 is set but
# never reached; clip 0 disables it (test_clipping_exercised pins which is which).
CONFIGS = {
    # AdamW everywhere, non-default betas/eps/wd, clipping, cosine with warmup.
    "a_adam_rms_cosine_clip": case(
        M_A, "rms", False, False, "adam",
        adamw=dict(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-6, wd=0.1), muon={},
        decay_norms=False, clip=0.05,
        schedule=dict(kind="cosine", total_steps=8, warmup_steps=2, min_ratio=0.1)),
    # AdamW on 0-D gains with decay_norms, tied + EmbProj, a large AdamW eps, WSD showing
    # warmup, stable and decay (n = round(0.4*6) = 2: s = .5, 1, 1, 1, .6).
    "b_adam_ssnorm_tied_embproj_wsd": case(
        M_B, "ssnorm", True, True, "adam",
        adamw=dict(lr=0.02, beta1=0.9, beta2=0.95, eps=1e-4, wd=0.05), muon={},
        decay_norms=True, clip=0.0,
        schedule=dict(kind="wsd", total_steps=6, warmup_steps=2, min_ratio=0.2,
                      decay_fraction=0.4)),
    # OSP: Muon on R1/R2 and blocks, AdamW on embedding/head/0-D gains (decayed); WSD with the
    # decay length on a rounding tie: 0.5*5 = 2.5 -> 2 (half to even, §0), not 3.
    "c_muon_ssnorm_embproj_wsd": case(
        M_A, "ssnorm", True, False, "muon",
        adamw=dict(lr=0.02, wd=0.01), muon=dict(lr=0.04, beta=0.9, wd=0.05),
        decay_norms=True, clip=0.0,
        schedule=dict(kind="wsd", total_steps=5, warmup_steps=1, min_ratio=0.1,
                      decay_fraction=0.5)),
    # OSP with a tied head, 1-D gains on AdamW (undecayed), clipping, constant after warmup.
    "d_muon_rms_tied_const": case(
        dict(M_A, kv_heads=1), "rms", False, True, "muon",
        adamw=dict(lr=0.02, beta1=0.85, beta2=0.98, wd=0.05), muon=dict(lr=0.05, wd=0.1),
        decay_norms=False, clip=0.05,
        schedule=dict(kind="constant", total_steps=10, warmup_steps=2)),
    # Muon-only: embedding through NS5, 0-D gains through the normalised branch (decayed); a
    # large Muon eps (1e-3 against clipped gain gradients of ~1e-3) makes eps visible; 4 NS steps.
    "e_muononly_ssnorm_tied_embproj_const": case(
        M_B, "ssnorm", True, True, "muon-only",
        adamw={}, muon=dict(lr=0.03, beta=0.85, ns_steps=4, eps=1e-3, wd=0.1),
        decay_norms=True, clip=0.05,
        schedule=dict(kind="constant", total_steps=5, warmup_steps=0)),
    # Muon-only with an untied head and 1-D gains (1-D branch, undecayed), clip set but never
    # reached, cosine without warmup down to min_ratio at the last step.
    "f_muononly_rms_untied_cosine": case(
        M_A, "rms", True, False, "muon-only",
        adamw={}, muon=dict(lr=0.05, beta=0.95, wd=0.02),
        decay_norms=False, clip=100.0,
        schedule=dict(kind="cosine", total_steps=5, warmup_steps=0, min_ratio=0.05)),
}


def model_cfg(cfg):
    return {k: cfg[k] for k in MODEL_KEYS}


def split_dump(dump, cfg):
    """(init, grads by step) as numpy dicts from a dump; None where the dump lacks a tensor."""
    names = ref.param_shapes(model_cfg(cfg))
    try:
        init = {n: dump["init." + n] for n in names}
        grads = {k: {n: dump[f"grad.{k}.{n}"] for n in names} for k in range(1, cfg["steps"] + 1)}
    except KeyError:
        return None, None
    return init, grads


@functools.lru_cache(maxsize=None)
def run_case(name):
    """Runs the dump once per config and returns (dump, ref64, ref32)."""
    cfg = CONFIGS[name]
    dump = dump_harness.run_dump("osp_optim_dump", cfg, 2000 + sorted(CONFIGS).index(name))
    init, grads = split_dump(dump, cfg)
    if init is None:
        return dump, None, None  # test_dump_contents reports what is missing
    return (dump, oref.run(init, grads, cfg["optim"], cfg["steps"], F64),
            oref.run(init, grads, cfg["optim"], cfg["steps"], torch.float32))


@pytest.fixture(params=sorted(CONFIGS))
def cpp_case(request):
    name = request.param
    dump, ref64, ref32 = run_case(name)
    return name, CONFIGS[name], dump, ref64, ref32


def test_dump_contents(cpp_case):
    """Exactly the contract's tensors, with the spec's names and shapes, all f32."""
    name, cfg, dump, _, _ = cpp_case
    want = {}
    for n, s in ref.param_shapes(model_cfg(cfg)).items():
        want["init." + n] = tuple(s)
        for k in range(1, cfg["steps"] + 1):
            want[f"grad.{k}.{n}"] = want[f"param.{k}.{n}"] = tuple(s)
    for k in range(1, cfg["steps"] + 1):
        want[f"grad_norm.{k}"] = want[f"lr_mult.{k}"] = ()
    missing, extra = sorted(set(want) - set(dump)), sorted(set(dump) - set(want))
    assert not missing and not extra, f"{name}: missing {missing[:8]}, unexpected {extra[:8]}"
    for k, shape in want.items():
        assert dump[k].shape == shape and dump[k].dtype == np.float32, \
            f"{name}: {k} is {dump[k].dtype}{dump[k].shape}, want float32{shape}"


def test_lr_mult(cpp_case):
    """§2.4: the multiplier the C++ used at step k is our s(k)."""
    name, cfg, dump, _, _ = cpp_case
    bad = []
    for k in range(1, cfg["steps"] + 1):
        ours = oref.schedule_multiplier(k, cfg["optim"]["schedule"])
        theirs = float(dump[f"lr_mult.{k}"])
        if abs(theirs - ours) > MULT_TOL:
            bad.append(f"step {k}: lr_mult {theirs:.8f}, want {ours:.8f}")
    assert not bad, f"{name} ({cfg['optim']['schedule']}):\n" + "\n".join(bad)


def test_grad_norm(cpp_case):
    """§2.4: grad_norm.<k> is the global L2 norm of the RAW gradients grad.<k>.*."""
    name, cfg, dump, ref64, _ = cpp_case
    assert ref64 is not None, "dump incomplete (see test_dump_contents)"
    bad = []
    for k, r in enumerate(ref64, 1):
        theirs = float(dump[f"grad_norm.{k}"])
        if abs(theirs - r["grad_norm"]) > NORM_TOL * r["grad_norm"]:
            bad.append(f"step {k}: grad_norm {theirs:.8g}, norm of the dumped grads "
                       f"{r['grad_norm']:.8g} (clipped grads dumped instead of raw ones?)")
    assert not bad, f"{name}:\n" + "\n".join(bad)


def test_clipping_exercised(cpp_case):
    """The configs mean what their comments say: clip 0.05 clips at every step, clip 100 never."""
    name, cfg, _, ref64, _ = cpp_case
    assert ref64 is not None, "dump incomplete (see test_dump_contents)"
    clip = cfg["optim"]["clip"]
    norms = [r["grad_norm"] for r in ref64]
    if clip == 0.05:
        assert min(norms) > clip, f"{name}: raw norms {norms} do not all exceed clip {clip}"
    elif clip > 0:
        assert max(norms) < clip, f"{name}: raw norms {norms} reach clip {clip}"


def test_params(cpp_case):
    """§2.1-§2.4: every parameter after every step agrees with the float64 replay."""
    name, cfg, dump, ref64, ref32 = cpp_case
    assert ref64 is not None, "dump incomplete (see test_dump_contents)"
    assign = oref.assign_groups(ref.param_shapes(model_cfg(cfg)), cfg["optim"]["groups"],
                                cfg["optim"]["decay_norms"])
    failures = []
    for n, (opt, decayed) in assign.items():
        for k in range(1, cfg["steps"] + 1):
            want, want32 = ref64[k - 1]["params"][n], ref32[k - 1]["params"][n]
            err, err32 = ref.rel_err(dump[f"param.{k}.{n}"], want), ref.rel_err(want32, want)
            assert err32 <= TOL / FP32_HEADROOM, \
                f"{name}: param.{k}.{n}: float32 replay {err32:.2e} off float64; TOL too tight"
            if err > TOL:  # report the first bad step of every tensor, not just one tensor
                failures.append(f"param.{k}.{n} [{opt}, {'decayed' if decayed else 'no wd'}]: "
                                f"rel err {err:.2e} > {TOL:.0e} (fp32 replay {err32:.1e})")
                break
    assert not failures, f"{name}:\n" + "\n".join(failures)


# =============================================================================================
# Checks of the reference itself (no C++). Trajectories come from llama_ref's gradients at the
# reference's own parameters, stored in f32 like a dump.

@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)  # the unseeded draws of the self-checks are then reproducible


@functools.lru_cache(maxsize=None)
def synthetic_case(name):
    """(init, grads by step) for a config, generated the way osp_optim_dump is specified."""
    cfg = CONFIGS[name]
    mc = model_cfg(cfg)
    seed = 3000 + sorted(CONFIGS).index(name)
    f32 = lambda t: t.detach().float().numpy().copy()  # noqa: E731
    init = {n: f32(p) for n, p in ref.init_params(mc, seed=seed, random_gains=True).items()}
    params = {n: torch.from_numpy(v).double() for n, v in init.items()}
    opt = oref.OspOptimizer(params, cfg["optim"])
    gen = torch.Generator().manual_seed(seed)
    grads = {}
    for k in range(1, cfg["steps"] + 1):
        ids = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["seq"]), generator=gen)
        tgt = torch.randint(0, cfg["vocab"], (cfg["batch"], cfg["seq"]), generator=gen)
        tgt[0, 0] = ref.IGNORE_INDEX
        live = {n: p.clone().requires_grad_() for n, p in params.items()}
        ref.loss(ref.forward(live, mc, ids), tgt).backward()
        grads[k] = {n: f32(live[n].grad) for n in live}
        opt.step({n: torch.from_numpy(g).double() for n, g in grads[k].items()})
    return init, grads


@functools.lru_cache(maxsize=None)
def synthetic_ref64(name):
    init, grads = synthetic_case(name)
    return oref.run(init, grads, CONFIGS[name]["optim"], CONFIGS[name]["steps"], F64)


def max_err(a, b):
    """Worst rel_err over every step and tensor of two replays."""
    return max(ref.rel_err(x["params"][n], y["params"][n])
               for x, y in zip(a, b) for n in y["params"])


def test_configs_cover_the_brief():
    """The configurations exercise every branch the cross-check is meant to cover."""
    o = [c["optim"] for c in CONFIGS.values()]
    seen = lambda f: {f(c) for c in CONFIGS.values()}  # noqa: E731
    assert seen(lambda c: c["optim"]["groups"]) == {"adam", "muon", "muon-only"}
    assert seen(lambda c: c["norm"]) == {"rms", "ssnorm"}
    assert seen(lambda c: c["tie"]) == {False, True}
    assert True in seen(lambda c: c["emb_proj"])
    assert ("muon-only", "ssnorm") in seen(lambda c: (c["optim"]["groups"], c["norm"]))  # 0-D
    assert ("muon-only", "rms") in seen(lambda c: (c["optim"]["groups"], c["norm"]))      # 1-D
    assert {x["schedule"]["kind"] for x in o} == {"cosine", "wsd", "constant"}
    assert all(any(x["schedule"]["kind"] == kd and x["schedule"]["warmup_steps"] > 1 for x in o)
               for kd in ("cosine", "wsd", "constant"))
    assert {x["decay_norms"] for x in o} == {True, False}
    assert {0.0, 0.05, 100.0} <= {x["clip"] for x in o}
    assert any(x["muon"]["ns_steps"] != 5 for x in o)
    assert any(x["adamw"]["beta1"] != ADAMW["beta1"] and x["adamw"]["beta2"] != ADAMW["beta2"]
               and x["adamw"]["eps"] != ADAMW["eps"] for x in o)


# --- §2.4 schedule ------------------------------------------------------------------------------

def test_schedule_values():
    s = oref.schedule_multiplier
    cos = dict(kind="cosine", total_steps=10, warmup_steps=4, min_ratio=0.1, decay_fraction=0.0)
    assert [s(t, cos) for t in (1, 2, 4)] == [0.25, 0.5, 1.0]
    assert s(7, cos) == pytest.approx(0.55)          # p = 1/2: halfway between 1 and min_ratio
    assert s(10, cos) == pytest.approx(0.1) and s(12, cos) == pytest.approx(0.1)
    assert s(5, cos) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 6)))
    wsd = dict(kind="wsd", total_steps=10, warmup_steps=2, min_ratio=0.0, decay_fraction=0.3)
    assert [s(t, wsd) for t in range(1, 11)] == pytest.approx(
        [0.5, 1, 1, 1, 1, 1, 1, 2 / 3, 1 / 3, 0.0])
    tie = dict(wsd, total_steps=5, decay_fraction=0.5, min_ratio=0.1)  # 2.5 -> 2 decay steps
    assert [s(t, tie) for t in range(1, 6)] == pytest.approx([0.5, 1, 1, 0.55, 0.1])
    const = dict(kind="constant", total_steps=10, warmup_steps=3, min_ratio=0.1,
                 decay_fraction=0.0)
    assert [s(t, const) for t in (1, 3, 4, 10, 11)] == pytest.approx([1 / 3, 1, 1, 1, 1])
    assert s(1, dict(cos, warmup_steps=0)) == pytest.approx(
        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 10)))


# Wrong schedules that a C++ could plausibly implement; each must differ from s(k) by more than
# MULT_TOL at some step of some config, or the lr_mult check would not see it.
def _wrong_wsd(sched, t, rounding=None, late=0):
    n = (rounding or oref.round_half_even)(sched["decay_fraction"] * sched["total_steps"])
    start = sched["total_steps"] - n
    if t <= sched["warmup_steps"]:
        return t / sched["warmup_steps"]
    return 1.0 if t <= start + late else 1 - (1 - sched["min_ratio"]) * (t - start - late) / n


WRONG_SCHEDULES = {
    "warmup_from_zero": lambda t, s: ((t - 1) / s["warmup_steps"] if t <= s["warmup_steps"]
                                      else oref.schedule_multiplier(t, s)),
    "cosine_p_over_total": lambda t, s: (
        s["min_ratio"] + (1 - s["min_ratio"]) * 0.5 * (1 + math.cos(math.pi * t / s["total_steps"]))
        if s["kind"] == "cosine" and t > s["warmup_steps"] else oref.schedule_multiplier(t, s)),
    "wsd_round_half_away": lambda t, s: (
        _wrong_wsd(s, t, rounding=lambda x: int(math.floor(x + 0.5))) if s["kind"] == "wsd"
        else oref.schedule_multiplier(t, s)),
    "wsd_decay_one_step_late": lambda t, s: (
        _wrong_wsd(s, t, late=1) if s["kind"] == "wsd" else oref.schedule_multiplier(t, s)),
    "constant_without_warmup": lambda t, s: (
        1.0 if s["kind"] == "constant" else oref.schedule_multiplier(t, s)),
}


@pytest.mark.parametrize("variant", sorted(WRONG_SCHEDULES))
def test_wrong_schedule_is_detected(variant):
    wrong = WRONG_SCHEDULES[variant]
    worst = max(abs(wrong(k, c["optim"]["schedule"]) - oref.schedule_multiplier(
        k, c["optim"]["schedule"])) for c in CONFIGS.values() for k in range(1, c["steps"] + 1))
    assert worst > 100 * MULT_TOL, f"{variant}: no config tells it apart (max diff {worst:.1e})"


# --- §2.4 clipping, §2.3 groups -----------------------------------------------------------------

def test_clipping_matches_torch():
    g = {"a": torch.randn(5, 3, dtype=F64), "b": torch.randn(4, dtype=F64),
         "c": torch.tensor(0.7, dtype=F64)}
    for clip in (0.05, 1.0, 100.0):
        ours, norm = oref.clip_by_global_norm(g, clip)
        params = [torch.zeros_like(v, requires_grad=True) for v in g.values()]
        for p, v in zip(params, g.values()):
            p.grad = v.clone()
        theirs = torch.nn.utils.clip_grad_norm_(params, clip)
        assert norm == pytest.approx(theirs.item(), rel=1e-14)
        for p, v in zip(params, ours.values()):
            assert torch.allclose(p.grad, v, rtol=1e-14, atol=0)
    assert oref.clip_by_global_norm(g, 0.0)[0]["a"] is g["a"]  # 0 disables


def test_group_assignment():
    """§2.3 table, for a model with every kind of tensor (EmbProj, untied head, 1-D gains)."""
    shapes = ref.param_shapes(dict(M_B, norm="rms", emb_proj=True, tie=False))
    blocks = [n for n in shapes if ".self_attn." in n or ".mlp." in n]
    gains = [n for n in shapes if oref.is_gain(n)]
    assert len(blocks) == 7 and len(gains) == 3
    rows = {"emb": [oref.EMBED], "head": [oref.HEAD], "r": [oref.R1, oref.R2], "blocks": blocks,
            "gains": gains}
    table = {"adam": dict(emb="adamw", head="adamw", r="adamw", blocks="adamw", gains="adamw"),
             "muon": dict(emb="adamw", head="adamw", r="muon", blocks="muon", gains="adamw"),
             "muon-only": dict(emb="muon", head="muon", r="muon", blocks="muon", gains="muon")}
    for groups, want in table.items():
        for decay_norms in (False, True):
            got = oref.assign_groups(shapes, groups, decay_norms)
            assert sorted(got) == sorted(shapes)
            for row, names in rows.items():
                for n in names:
                    assert got[n] == (want[row], row != "gains" or decay_norms), (groups, n)
    ss = oref.assign_groups(ref.param_shapes(dict(M_B, norm="ssnorm", emb_proj=False, tie=True)),
                            "muon-only", False)
    assert oref.HEAD not in ss and ss["model.norm.weight"] == ("muon", False)


# --- §2.1 AdamW ---------------------------------------------------------------------------------

class SpecAdamW:
    """§2.1 written out by hand (the default arguments), plus the wrong variants below."""

    def __init__(self, param_groups, betas, eps, bias_correction=True, eps_inside=False,
                 coupled=False, decay_lr=None):
        self.param_groups = [dict(g) for g in param_groups]
        self.betas, self.eps, self.t, self.state = betas, eps, 0, {}
        self.bias_correction, self.eps_inside = bias_correction, eps_inside
        self.coupled, self.decay_lr = coupled, decay_lr

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                m, v = self.state.setdefault(id(p), (torch.zeros_like(p), torch.zeros_like(p)))
                g = p.grad
                if self.coupled:                  # wrong: L2 in the gradient (Adam, not AdamW)
                    g = g + wd * p
                else:                             # θ ← θ·(1 − lr·wd), with the old θ
                    p.mul_(1 - (self.decay_lr or lr) * wd)
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                bc1, bc2 = (1 - b1 ** self.t, 1 - b2 ** self.t) if self.bias_correction else (1, 1)
                denom = (torch.sqrt(v / bc2 + self.eps) if self.eps_inside
                         else torch.sqrt(v) / math.sqrt(bc2) + self.eps)
                p.sub_((lr / bc1) * m / denom)


def test_torch_adamw_is_the_spec_formula(monkeypatch):
    """torch.optim.AdamW (what the reference uses) does exactly §2.1, 0-D tensors included."""
    for name in ("a_adam_rms_cosine_clip", "b_adam_ssnorm_tied_embproj_wsd"):
        init, grads = synthetic_case(name)
        with monkeypatch.context() as mp:
            mp.setattr(oref, "make_adamw", lambda g, b, e: SpecAdamW(g, b, e))
            spec = oref.run(init, grads, CONFIGS[name]["optim"], STEPS, F64)
        assert max_err(spec, synthetic_ref64(name)) < 1e-13, name


# --- §2.2 Muon ----------------------------------------------------------------------------------

def test_muon_momentum_identity():
    """U = (1+β)G + β²M_old; the stored buffer is G + βM_old (no (1−β))."""
    G, M0 = torch.randn(4, 3, dtype=F64), torch.randn(4, 3, dtype=F64)
    M = M0.clone()
    U = oref.muon_momentum(M, G, 0.9)
    assert torch.allclose(M, G + 0.9 * M0, rtol=1e-14, atol=1e-15)
    assert torch.allclose(U, 1.9 * G + 0.81 * M0, rtol=1e-14, atol=1e-15)


def test_ns5_is_the_scalar_polynomial_on_singular_values():
    """NS5 maps U = PΣQᵀ to P·p⁵(Σ/(‖U‖_F+eps))·Qᵀ with p(σ) = aσ + bσ³ + cσ⁵ (an identity
    independent of the matrix iteration), for both orientations."""
    a, b, c = oref.NS_COEFFS
    gen = torch.Generator().manual_seed(1)
    for shape in ((7, 12), (12, 7), (9, 9)):
        U = torch.randn(shape, generator=gen, dtype=F64)
        P, S, Qt = torch.linalg.svd(U, full_matrices=False)
        x = S / (torch.linalg.norm(U) + 1e-8)
        for _ in range(5):
            x = a * x + b * x ** 3 + c * x ** 5
        want = P @ torch.diag(x) @ Qt
        got = oref.ns5(U, 5, 1e-8, F64)
        assert got.shape == U.shape and torch.allclose(got, want, rtol=0, atol=1e-12), shape
        assert torch.allclose(oref.ns5(U.T, 5, 1e-8, F64), want.T, rtol=0, atol=1e-12)
        # The spec's band for the result's singular values, for a well-conditioned matrix.
        sv = torch.linalg.svdvals(got)
        assert sv.min() > 0.5 and sv.max() < 1.2, (shape, sv)


def solo_optim(groups="muon-only", **muon):
    """Optim dict for hand-made single-tensor checks: no clipping, s(t) = 1, no decay."""
    return dict(groups=groups, adamw=dict(ADAMW), muon=dict(MUON, wd=0.0, **muon),
                decay_norms=False, clip=0.0,
                schedule=dict(kind="constant", total_steps=10, warmup_steps=0, min_ratio=1.0,
                              decay_fraction=0.0))


def test_muon_small_tensor_branch():
    """0-D: the step is ±0.2·lr (sign of U up to eps) whatever the gradient's size; 1-D: the
    step has RMS 0.2·lr (§2.2 step 2-3, §2.3 muon-only)."""
    lr = 0.1
    for g in (3.0, -1e-3):
        W = torch.tensor(1.0, dtype=F64)
        oref.OspOptimizer({"model.norm.weight": W}, solo_optim(lr=lr, eps=1e-12)).step(
            {"model.norm.weight": torch.tensor(g, dtype=F64)})
        assert W.item() == pytest.approx(1.0 - math.copysign(0.2 * lr, g), rel=1e-10)
    W = torch.ones(50, dtype=F64)
    oref.OspOptimizer({"model.norm.weight": W}, solo_optim(lr=lr, eps=1e-12)).step(
        {"model.norm.weight": torch.randn(50, dtype=F64)})
    assert (W - 1).pow(2).mean().sqrt().item() == pytest.approx(0.2 * lr, rel=1e-9)


def test_muon_matrix_update_rms():
    """§2.2: with 0.2·√max(m, n) a full-rank update has RMS ≈ 0.2·lr (singular values of the NS5
    result near 1), for tall and wide matrices alike."""
    lr = 0.1
    for shape in ((64, 16), (16, 64), (32, 32)):
        W = torch.zeros(shape, dtype=F64)
        oref.OspOptimizer({"model.layers.0.mlp.up_proj.weight": W}, solo_optim(lr=lr)).step(
            {"model.layers.0.mlp.up_proj.weight": torch.randn(shape, dtype=F64)})
        rms = W.pow(2).mean().sqrt().item() / lr
        assert 0.2 * 0.7 < rms < 0.2 * 1.15, (shape, rms)


def test_fp32_replay_within_headroom():
    """Honest fp32 rounding (NS5 in fp32, as §2.2 prescribes on the CPU) sits inside TOL/10."""
    for name in CONFIGS:
        init, grads = synthetic_case(name)
        r32 = oref.run(init, grads, CONFIGS[name]["optim"], STEPS, torch.float32)
        err = max_err(r32, synthetic_ref64(name))
        assert err <= TOL / FP32_HEADROOM, f"{name}: fp32 replay {err:.2e} off float64"


def test_updates_are_resolved():
    """Every tensor moves by >= 100·TOL of its scale at some step (there TOL resolves its
    update to 1%), and every tensor of >= 1 dim by >= 10·TOL at every step (no step's update
    hides below TOL); with tiny learning rates any update would pass. A 0-D AdamW gain is
    exempt from the per-step bound: when its gradient flips sign, m ≈ 0 and it barely moves."""
    for name in CONFIGS:
        init, _ = synthetic_case(name)
        prev = {n: torch.from_numpy(v).double() for n, v in init.items()}
        moved = {n: [] for n in prev}
        for r in synthetic_ref64(name):
            for n, p in r["params"].items():
                moved[n].append(ref.rel_err(p, prev[n]))
            prev = r["params"]
        for n, m in moved.items():
            per_step = min(m) if prev[n].dim() else 10 * TOL
            assert max(m) >= 100 * TOL and per_step >= 10 * TOL, \
                f"{name}: {n} moves by {', '.join(f'{x:.1e}' for x in m)} of its scale"


# --- deliberately wrong variants ----------------------------------------------------------------
# Each patches optim_ref's module globals for one replay; it must exceed TOL on at least one
# config. The harmless ones (mathematically identical to §2.2) must stay within TOL everywhere.

def _muon_ema(M, G, beta):              # Keller Jordan's EMA form (§2.2.3)
    M.mul_(beta).add_((1 - beta) * G)
    return (1 - beta) * G + beta * M


def _muon_no_nesterov(M, G, beta):
    M.mul_(beta).add_(G)
    return M.clone()


def _muon_nesterov_old_buffer(M, G, beta):
    U = G + beta * M
    M.mul_(beta).add_(G)
    return U


def _keller_scale(shape):
    return math.sqrt(max(1.0, shape[0] / shape[1])) if len(shape) == 2 else _ORIG_SCALE(shape)


def _ns_loop(X, steps):
    a, b, c = oref.NS_COEFFS
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
    return X


def _ns_spectral_norm(U, steps, eps, dtype=torch.float32):   # X = U/‖U‖₂ instead of U/‖U‖_F
    X = U.to(dtype)
    wide = X.shape[0] <= X.shape[1]
    X = X if wide else X.T
    X = _ns_loop(X / (torch.linalg.matrix_norm(X, ord=2) + eps), steps)
    return X if wide else X.T


def _ns_no_transpose(U, steps, eps, dtype=torch.float32):
    X = U.to(dtype)
    return _ns_loop(X / (torch.linalg.norm(X) + eps), steps)


_ORIG_NS5, _ORIG_ASSIGN = oref.ns5, oref.assign_groups
_ORIG_CLIP, _ORIG_ORTH = oref.clip_by_global_norm, oref.muon_orthogonalise
_ORIG_SCALE = oref.muon_scale


def _clip_per_tensor(grads, clip):
    norm = oref.global_norm(grads)
    if clip <= 0:
        return dict(grads), norm
    out = {}
    for k, g in grads.items():
        n = torch.linalg.vector_norm(g).item()
        out[k] = g * (clip / (n + 1e-6)) if n > clip else g
    return out, norm


def _clip_always(grads, clip):
    norm = oref.global_norm(grads)
    return ({k: g * (clip / (norm + 1e-6)) for k, g in grads.items()} if clip > 0
            else dict(grads)), norm


def _gains_on_muon(shapes, groups, decay_norms):
    out = _ORIG_ASSIGN(shapes, groups, decay_norms)
    return {n: (("muon" if groups == "muon" and oref.is_gain(n) else opt), d)
            for n, (opt, d) in out.items()}


# name -> (cfg -> {attribute: replacement}); built per config so closures know base rates.
WRONG = {
    "adamw_no_bias_correction": lambda c: {
        "make_adamw": lambda g, b, e: SpecAdamW(g, b, e, bias_correction=False)},
    "adamw_eps_inside_sqrt": lambda c: {
        "make_adamw": lambda g, b, e: SpecAdamW(g, b, e, eps_inside=True)},
    "adamw_l2_coupled_decay": lambda c: {
        "make_adamw": lambda g, b, e: SpecAdamW(g, b, e, coupled=True)},
    "adamw_decay_with_base_lr": lambda c: {
        "make_adamw": lambda g, b, e: SpecAdamW(g, b, e, decay_lr=c["adamw"]["lr"])},
    "muon_ema_momentum": lambda c: {"muon_momentum": _muon_ema},
    "muon_no_nesterov": lambda c: {"muon_momentum": _muon_no_nesterov},
    "muon_nesterov_with_old_buffer": lambda c: {"muon_momentum": _muon_nesterov_old_buffer},
    "muon_keller_scale": lambda c: {"muon_scale": _keller_scale},
    "muon_small_tensors_unscaled": lambda c: {
        "muon_scale": lambda s: _ORIG_SCALE(s) if len(s) == 2 else 1.0},
    "muon_decay_not_times_lr": lambda c: {
        "muon_apply": lambda W, O, lr, wd: W.sub_(lr * O + wd * W)},
    "muon_decay_with_base_lr": lambda c: {
        "muon_apply": lambda W, O, lr, wd: W.sub_(lr * O + c["muon"]["lr"] * wd * W)},
    "muon_always_5_ns_steps": lambda c: {
        "ns5": lambda U, steps, eps, dtype=torch.float32: _ORIG_NS5(U, 5, eps, dtype)},
    "muon_ns_spectral_normalisation": lambda c: {"ns5": _ns_spectral_norm},
    "muon_eps_1e-7": lambda c: {   # Keller's eps instead of the configured one
        "muon_orthogonalise": lambda U, eps, st, dt: _ORIG_ORTH(U, 1e-7, st, dt)},
    "norm_gains_never_decayed": lambda c: {
        "assign_groups": lambda s, g, d: _ORIG_ASSIGN(s, g, False)},
    "norm_gains_always_decayed": lambda c: {
        "assign_groups": lambda s, g, d: _ORIG_ASSIGN(s, g, True)},
    "osp_gains_on_muon": lambda c: {"assign_groups": _gains_on_muon},
    "no_clipping": lambda c: {"clip_by_global_norm": lambda g, clip: _ORIG_CLIP(g, 0.0)},
    "clip_per_tensor": lambda c: {"clip_by_global_norm": _clip_per_tensor},
    "clip_scales_below_threshold": lambda c: {"clip_by_global_norm": _clip_always},
    "lr_unscheduled": lambda c: {"schedule_multiplier": lambda t, s: 1.0},
}

HARMLESS = {  # the same mathematics: must stay within TOL (the tolerance is not too tight)
    "ns_without_transpose": lambda c: {"ns5": _ns_no_transpose},   # §2.2: orientation-free
    "clip_coef_without_1e-6": lambda c: {"clip_by_global_norm": lambda g, clip: (
        ({k: v * (clip / oref.global_norm(g)) for k, v in g.items()}, oref.global_norm(g))
        if 0 < clip < oref.global_norm(g) else (dict(g), oref.global_norm(g)))},
}


def _variant_errors(variant, monkeypatch):
    errs = {}
    for name, cfg in CONFIGS.items():
        init, grads = synthetic_case(name)
        with monkeypatch.context() as mp:
            for attr, fn in variant(cfg["optim"]).items():
                mp.setattr(oref, attr, fn)
            wrong = oref.run(init, grads, cfg["optim"], cfg["steps"], F64)
        errs[name] = max_err(wrong, synthetic_ref64(name))
    return errs


@pytest.mark.parametrize("variant", sorted(WRONG))
def test_wrong_variant_is_detected(variant, monkeypatch):
    errs = _variant_errors(WRONG[variant], monkeypatch)
    assert max(errs.values()) > TOL, \
        f"{variant} stays within TOL on every config: " + \
        ", ".join(f"{n} {e:.1e}" for n, e in errs.items())


@pytest.mark.parametrize("variant", sorted(HARMLESS))
def test_harmless_variant_passes(variant, monkeypatch):
    errs = _variant_errors(HARMLESS[variant], monkeypatch)
    assert max(errs.values()) <= TOL / FP32_HEADROOM, errs
