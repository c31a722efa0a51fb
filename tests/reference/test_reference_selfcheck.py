"""Checks of the PyTorch reference itself (llama_ref.py), independent of the C++ engine.

Each test pins one statement of spec §1 with an identity that does not reuse the code under
test, and the last tests show that the cross-check tolerance catches plausible mistakes.
"""
import math

import pytest
import torch
import torch.nn.functional as F

import llama_ref as ref
from test_reference_model import CONFIGS, FP32_HEADROOM, MODEL_KEYS, TOL

F64 = torch.float64
BASE = dict(layers=2, hidden=24, heads=6, kv_heads=2, ffn=40, vocab=37, rope_theta=10000.0,
            norm_eps=1e-5, norm="rms", emb_proj=False, tie=False)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)  # the unseeded draws below are then reproducible


def cfg(**kw):
    return {**BASE, **kw}


def tokens(config, B=2, T=9, seed=0):
    return torch.randint(0, config["vocab"], (B, T), generator=torch.Generator().manual_seed(seed))


def logits_of(params, config, ids):
    with torch.no_grad():
        return ref.forward(params, config, ids)


# --- RoPE (§1.4) ------------------------------------------------------------------------------

def test_rope_identity_at_position_0_and_preserves_norms():
    T, Dh = 33, 16
    cos, sin = ref.rope_tables(T, Dh, 10000.0, F64)
    z = torch.randn(2, 3, T, Dh, dtype=F64)
    out = ref.rope(z, cos, sin)
    assert torch.equal(out[:, :, 0], z[:, :, 0])  # cos 0 = 1, sin 0 = 0 exactly
    torch.testing.assert_close(out.norm(dim=-1), z.norm(dim=-1), rtol=1e-13, atol=0)


def test_rope_half_split_pairs_i_with_i_plus_half():
    # A unit vector on element 1 rotates into element 1 + Dh/2 (interleaved RoPE would use 0).
    Dh, theta, p = 8, 10000.0, 5
    cos, sin = ref.rope_tables(p + 1, Dh, theta, F64)
    z = torch.zeros(p + 1, Dh, dtype=F64)
    z[:, 1] = 1.0
    out = ref.rope(z, cos, sin)[p]
    a = p * theta ** (-2 * 1 / Dh)
    want = torch.zeros(Dh, dtype=F64)
    want[1], want[1 + Dh // 2] = math.cos(a), math.sin(a)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-6)  # fp32 angle: ~1 ulp of a


def test_rope_angle_is_fp32_rounded():
    # §1.4 rounds the angle p*inv_i to fp32; at a long position that differs from the exact angle.
    T, Dh, theta = 4096, 64, 10000.0
    cos, _ = ref.rope_tables(T, Dh, theta, F64)
    p, i = T - 1, 5
    inv = torch.tensor(1.0, dtype=torch.float32) / torch.tensor(
        theta ** float(torch.tensor(2 * i, dtype=torch.float32) / Dh), dtype=torch.float32)
    a32 = (torch.tensor(float(p), dtype=torch.float32) * inv).double()
    assert cos[p, i].item() == math.cos(a32.item())
    assert cos[p, i].item() != math.cos(p * theta ** (-2 * i / Dh))


def test_rope_scores_depend_only_on_relative_position():
    T, Dh = 12, 8
    cos, sin = ref.rope_tables(T, Dh, 500000.0, F64)
    q, k = torch.randn(Dh, dtype=F64), torch.randn(Dh, dtype=F64)
    rq, rk = ref.rope(q.expand(T, Dh), cos, sin), ref.rope(k.expand(T, Dh), cos, sin)
    s = rq @ rk.T  # s[i, j] = <R_i q, R_j k>
    torch.testing.assert_close(s[7, 3], s[4, 0], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(s[9, 9], q @ k, rtol=1e-6, atol=1e-6)


# --- attention, GQA, causality -------------------------------------------------------------------

def test_attention_matches_per_head_loop():
    # Literal transcription of §1.4's pseudo-code, one query head and one position at a time.
    c = ref.resolve_config(cfg())
    p = ref.init_params(c, seed=1)
    h = torch.randn(2, 7, c["hidden"], dtype=F64)
    cos, sin = ref.rope_tables(7, c["head_dim"], c["rope_theta"], F64)
    got = ref.attention(h, p, "model.layers.0.self_attn.", c, cos, sin)
    H, Hkv, Dh = c["heads"], c["kv_heads"], c["head_dim"]
    W = {n: p[f"model.layers.0.self_attn.{n}_proj.weight"] for n in "qkvo"}
    want = torch.zeros_like(got)
    for b in range(2):
        q, k, v = h[b] @ W["q"].T, h[b] @ W["k"].T, h[b] @ W["v"].T
        outs = []
        for a in range(H):
            g = a // (H // Hkv)
            qa = ref.rope(q[:, a * Dh:(a + 1) * Dh], cos, sin)
            kg = ref.rope(k[:, g * Dh:(g + 1) * Dh], cos, sin)
            vg = v[:, g * Dh:(g + 1) * Dh]
            oa = torch.stack([torch.softmax(qa[i] @ kg[:i + 1].T / math.sqrt(Dh), 0) @ vg[:i + 1]
                              for i in range(7)])
            outs.append(oa)
        want[b] = torch.cat(outs, dim=1) @ W["o"].T
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_gqa_equals_mha_with_repeated_kv_weights():
    # Each kv head serves H/Hkv consecutive query heads, so MHA with every kv head's weight
    # block repeated that many times, consecutively, computes the same function.
    gqa = cfg()
    mha = cfg(kv_heads=gqa["heads"])
    p = ref.init_params(gqa, seed=2, random_gains=True)
    rep, Dh = gqa["heads"] // gqa["kv_heads"], gqa["hidden"] // gqa["heads"]
    pm = dict(p)
    for n, w in p.items():
        if n.endswith(("k_proj.weight", "v_proj.weight")):
            pm[n] = w.view(gqa["kv_heads"], Dh, -1).repeat_interleave(rep, 0).reshape(-1, w.shape[1])
    ids = tokens(gqa)
    torch.testing.assert_close(logits_of(pm, mha, ids), logits_of(p, gqa, ids), rtol=1e-12,
                               atol=1e-12)


def test_causal_mask():
    c = cfg(layers=3)
    p = ref.init_params(c, seed=3, random_gains=True)
    ids = tokens(c, T=11)
    t = 6
    ids2 = ids.clone()
    ids2[:, t] = (ids[:, t] + 1) % c["vocab"]
    a, b = logits_of(p, c, ids), logits_of(p, c, ids2)
    assert torch.equal(a[:, :t], b[:, :t])  # earlier positions never see token t
    assert (a[:, t:] - b[:, t:]).abs().amax(dim=-1).min() > 1e-6  # later ones all do


# --- norms, EmbProj, tying ------------------------------------------------------------------------

def test_ssnorm_equals_rms_with_constant_gain():
    ss, rms = cfg(norm="ssnorm"), cfg(norm="rms")
    p = ref.init_params(ss, seed=4, random_gains=True)
    assert p["model.norm.weight"].shape == ()
    pr = {n: (w.expand(ss["hidden"]).clone() if w.dim() == 0 else w) for n, w in p.items()}
    ids = tokens(ss)
    torch.testing.assert_close(logits_of(pr, rms, ids), logits_of(p, ss, ids), rtol=1e-13,
                               atol=1e-13)


def test_emb_proj_identity_equals_no_emb_proj():
    with_r, without = cfg(emb_proj=True), cfg(emb_proj=False)
    p = ref.init_params(with_r, seed=5, random_gains=True)
    eye = torch.eye(with_r["hidden"], dtype=F64)
    p["model.embed_proj.weight"], p["model.head_proj.weight"] = eye, eye.clone()
    q = {n: w for n, w in p.items() if n not in ("model.embed_proj.weight",
                                                  "model.head_proj.weight")}
    ids = tokens(with_r)
    assert torch.equal(logits_of(p, with_r, ids), logits_of(q, without, ids))


def test_emb_proj_is_applied_as_x_times_w_transpose():
    # §0 layout: R1 stored (out, in); a non-symmetric R1 tells x·R1ᵀ from x·R1.
    c = cfg(emb_proj=True, layers=1)
    p = ref.init_params(c, seed=6)
    p["model.embed_proj.weight"] = torch.randn(c["hidden"], c["hidden"], dtype=F64)
    pt = dict(p, **{"model.embed_proj.weight": p["model.embed_proj.weight"].T.contiguous()})
    ids = tokens(c)
    assert (logits_of(p, c, ids) - logits_of(pt, c, ids)).abs().max() > 1e-3


def test_tied_gradient_is_sum_of_embedding_and_head_gradients():
    tied, untied = cfg(tie=True, emb_proj=True), cfg(tie=False, emb_proj=True)
    p = ref.init_params(tied, seed=7, random_gains=True)
    pu = dict(p, **{"lm_head.weight": p["model.embed_tokens.weight"].clone()})
    ids = tokens(tied)
    tgt = tokens(tied, seed=8)
    grads = []
    for params, c in ((p, tied), (pu, untied)):
        params = {n: w.clone().requires_grad_() for n, w in params.items()}
        ref.loss(ref.forward(params, c, ids), tgt).backward()
        grads.append({n: w.grad for n, w in params.items()})
    gt, gu = grads
    torch.testing.assert_close(gt["model.embed_tokens.weight"],
                               gu["model.embed_tokens.weight"] + gu["lm_head.weight"],
                               rtol=1e-12, atol=1e-14)


# --- loss (§1.8) -----------------------------------------------------------------------------------

def test_loss_ignores_minus_100():
    g = torch.Generator().manual_seed(9)
    logits = torch.randn(3, 7, 13, dtype=F64, generator=g)
    tgt = torch.randint(0, 13, (3, 7), generator=g)
    tgt[0, :3] = tgt[2, 6] = -100
    keep = tgt != -100
    want = -F.log_softmax(logits[keep], -1).gather(1, tgt[keep][:, None]).mean()
    torch.testing.assert_close(ref.loss(logits, tgt), want, rtol=1e-14, atol=0)
    # Logits at ignored positions neither change the loss nor get gradient.
    moved = logits.clone().requires_grad_()
    with torch.no_grad():
        moved[~keep] += 5 * torch.randn_like(moved[~keep])
    value = ref.loss(moved, tgt)
    value.backward()
    torch.testing.assert_close(value, want, rtol=1e-14, atol=0)
    assert torch.all(moved.grad[~keep] == 0)
    # Targets are int32 in the C++ dump; the loss must accept them.
    torch.testing.assert_close(ref.loss(logits, tgt.int()), want, rtol=1e-14, atol=0)


# --- autograd vs finite differences --------------------------------------------------------------

@pytest.mark.parametrize("config", [
    cfg(layers=2, hidden=8, heads=2, kv_heads=1, ffn=12, vocab=11, norm="ssnorm",
        emb_proj=True, tie=True),
    cfg(layers=1, hidden=8, heads=2, kv_heads=2, ffn=10, vocab=9, norm="rms", norm_eps=1e-2),
], ids=["ssnorm_embproj_tied_gqa", "rms_untied"])
def test_gradients_match_finite_differences(config):
    # Central differences in float64 on a few entries of every parameter: autograd through
    # the reference is the gradient of the model as written.
    p = ref.init_params(config, seed=10, random_gains=True)
    ids, tgt = tokens(config, T=6), tokens(config, T=6, seed=11)
    tgt[0, 2] = -100
    params = {n: w.clone().requires_grad_() for n, w in p.items()}
    ref.loss(ref.forward(params, config, ids), tgt).backward()
    gen = torch.Generator().manual_seed(12)
    h = 1e-6
    for name, w in p.items():
        grad, scale = params[name].grad.reshape(-1), params[name].grad.abs().max().item()
        for j in torch.randint(0, w.numel(), (3,), generator=gen).tolist():
            def at(delta):
                q = dict(p)
                q[name] = w.clone()
                q[name].view(-1)[j] += delta
                return ref.loss(logits_of(q, config, ids), tgt).item()
            fd = (at(h) - at(-h)) / (2 * h)
            assert abs(fd - grad[j].item()) <= 1e-6 * max(scale, 1e-3), (name, j, fd, grad[j])


# --- the cross-check tolerance catches plausible mistakes ----------------------------------------

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_float32_reference_sits_inside_tolerance(name):
    # What honest fp32 rounding costs on the cross-check's configurations: the reference run in
    # float32 against itself in float64, logits and every gradient, must be well inside TOL.
    full = CONFIGS[name]
    c = {k: full[k] for k in MODEL_KEYS}
    p64 = ref.init_params(c, seed=16, random_gains=True)
    ids, tgt = tokens(c, B=full["batch"], T=full["seq"]), tokens(c, full["batch"], full["seq"], 17)
    tgt[0, 0] = -100
    out = {}
    for dtype in (torch.float64, torch.float32):
        params = {n: w.to(dtype, copy=True).requires_grad_() for n, w in p64.items()}
        logits = ref.forward(params, c, ids)
        ref.loss(logits, tgt).backward()
        out[dtype] = {"logits": logits.detach(), **{n: w.grad for n, w in params.items()}}
    errs = {k: ref.rel_err(out[torch.float32][k], v) for k, v in out[torch.float64].items()}
    worst = max(errs, key=errs.get)
    assert errs[worst] <= TOL / FP32_HEADROOM, (worst, errs[worst])


def _rope_interleaved(z, cos, sin):  # pairs (2i, 2i+1): the Meta/GGUF layout, not §1.4's
    z1, z2 = z[..., 0::2], z[..., 1::2]
    return torch.stack([z1 * cos - z2 * sin, z2 * cos + z1 * sin], -1).flatten(-2)


def _rope_reversed(z, cos, sin, rope=ref.rope):  # rotation by -a (sign of sin flipped)
    return rope(z, cos, -sin)


def _norm_eps_outside_sqrt(x, gain, eps):
    return x / (x.pow(2).mean(-1, keepdim=True).sqrt() + eps) * gain


def _kv_tiled(kv, heads):  # query head a reads kv head a % Hkv instead of a // (H/Hkv)
    return kv.repeat(1, heads // kv.shape[1], 1, 1)


def _swiglu_swapped(h, params, prefix):  # SiLU on up_proj instead of gate_proj
    u = h @ params[prefix + "gate_proj.weight"].T
    g = h @ params[prefix + "up_proj.weight"].T
    return (F.silu(g) * u) @ params[prefix + "down_proj.weight"].T


MUTANTS = {
    "rope_interleaved": ("rope", _rope_interleaved),
    "rope_reversed": ("rope", _rope_reversed),
    "norm_eps_outside_sqrt": ("rms_norm", _norm_eps_outside_sqrt),
    "gqa_tiled": ("expand_kv", _kv_tiled),
    "swiglu_swapped": ("swiglu", _swiglu_swapped),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_tolerance_catches_mutant(mutant, monkeypatch):
    # On the cross-check's own configurations (gains random as in the C++ dump), each mistake
    # moves the logits by well over TOL in at least one configuration.
    errs = {}
    for name, full in CONFIGS.items():
        c = {k: full[k] for k in MODEL_KEYS}
        p = ref.init_params(c, seed=13, random_gains=True)
        ids = tokens(c, B=full["batch"], T=full["seq"])
        good = logits_of(p, c, ids)
        with monkeypatch.context() as m:
            m.setattr(ref, *MUTANTS[mutant])
            errs[name] = ref.rel_err(logits_of(p, c, ids), good)
    assert max(errs.values()) > 10 * TOL, errs


def test_tolerance_catches_loss_over_all_positions():
    c = {k: CONFIGS["a_mha_rms_untied"][k] for k in MODEL_KEYS}
    p = ref.init_params(c, seed=14, random_gains=True)
    ids, tgt = tokens(c), tokens(c, seed=15)
    tgt[0, :4] = -100
    logits = logits_of(p, c, ids)
    wrong = F.cross_entropy(logits.reshape(-1, c["vocab"]), tgt.reshape(-1), reduction="sum",
                            ignore_index=-100) / tgt.numel()  # divides by B*T, not the count
    assert ref.rel_err(wrong, ref.loss(logits, tgt)) > 10 * TOL
