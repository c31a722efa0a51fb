"""Cross-check of osp's quantization, Hadamard, GPTQ, kurtosis and perplexity against the
PyTorch reference quant_ref.py (written from measurement.md).

Contract with the C++ side: $OSP_BUILD_DIR/tests/reference/osp_quant_dump, run as
    osp_quant_dump --config '<json>' --seed N --out FILE.safetensors
draws fresh random inputs from the seed and writes them with osp's results:
  w{4,3}.in/.scale/.out   weight rows, clip-searched scales, RTN result (§3.4)
  tok{4,8}.in/.out        per-token activations (§3.5); tie.in/.out exact half-way values
  grp{4,8}.in/.out        per-head groups of 16 with exact min/max (§3.6)
  had{n}.in/.out/.base    rows a and M·a (§3.8), and osp's K×K base matrix
  gptq.w/.h/.out          one linear, its Hessian, the GPTQ result (block 64, §3.11)
  param.<name>, tokens    a small random model and a token stream
  kurt.{token,sequence}.states, kurt.average   kurtosis of 4 rows × 8 tokens (§1)
  ppl                     FP, W4A4KV4 RTN rotate none, W4A4KV4 RTN rotate ffn (window 16, §2)
Quantizers must agree bit for bit; transforms and GPTQ to fp32 rounding; perplexity to 1e-4.
A missing executable FAILS, unless OSP_REF_ALLOW_MISSING=1 (then these cases skip).
"""
import os

import pytest
import torch
from safetensors.torch import load_file

import dump_harness
import quant_ref as qr

CONFIGS = {
    "rms_mha": dict(layers=2, hidden=32, heads=4, kv_heads=4, ffn=80, vocab=61, norm="rms",
                    emb_proj=False, tie=False, rope_theta=10000.0, norm_eps=1e-5, context=16),
    "ssnorm_gqa_embproj": dict(layers=3, hidden=64, heads=4, kv_heads=2, ffn=112, vocab=97,
                               norm="ssnorm", emb_proj=True, tie=True, rope_theta=10000.0,
                               norm_eps=1e-6, context=16),
}


def dump(config, seed):
    return dump_harness.run_dump("osp_quant_dump", config, seed, loader=load_file)


@pytest.fixture(scope="module", params=list(CONFIGS))
def case(request):
    seed = int(os.environ.get("OSP_TEST_SEED") or int.from_bytes(os.urandom(4), "little"))  # printed on failure
    return request.param, seed, dump(CONFIGS[request.param], seed)


def test_quantizers_bit_exact(case):
    name, seed, d = case
    for bits in (4, 3):
        w = d[f"w{bits}.in"]
        mine, osp = qr.weight_scale(w, bits), d[f"w{bits}.scale"]
        differ = mine != osp
        # only genuine ties (equal errors to 1e-12) may resolve differently
        assert qr.genuine_tie(w, bits, mine, osp)[differ].all(), (name, seed, bits)
        assert differ.float().mean() <= 0.1
        assert torch.equal(qr.quantize_weight(w, bits, osp), d[f"w{bits}.out"]), (name, seed, bits)
    for bits in (4, 8):
        assert torch.equal(qr.quantize_per_token(d[f"tok{bits}.in"], bits), d[f"tok{bits}.out"]), (seed, bits)
        assert torch.equal(qr.quantize_groups(d[f"grp{bits}.in"], 16, bits), d[f"grp{bits}.out"]), (seed, bits)
    expect = torch.round(d["tie.in"])  # half to even: 0.5→0, 1.5→2, 2.5→2, ...
    assert torch.equal(d["tie.out"], expect)
    assert torch.equal(qr.quantize_per_token(d["tie.in"], 4), expect)


def test_hadamard(case):
    _, seed, d = case
    for key in [k for k in d if k.startswith("had") and k.endswith(".in")]:
        n = int(key[3:-3])
        base = d[f"had{n}.base"].long()
        k = base.shape[0]
        assert k == qr.base_size(n)
        assert torch.equal(base @ base.T, k * torch.eye(k, dtype=torch.long)), n
        # Over a prime field the Paley/doubling construction is unique given the element order;
        # over GF(27) / GF(25) it depends on the chosen modulus and element numbering, and any
        # Hadamard matrix is acceptable there (§3.8), so the transform uses osp's own.
        if k not in (28, 52):
            assert torch.equal(base, qr.base_matrix(k)), n
        M = qr.hadamard_dense(n, base)
        assert torch.allclose(M @ M.T, torch.eye(n, dtype=torch.float64), atol=1e-12)
        y = qr.apply_rows(d[key].double(), M)
        assert (d[f"had{n}.out"].double() - y).abs().max() <= 1e-5 * y.abs().max(), (n, seed)
        # W'(M a) = W a with W' = W·Mᵀ
        W = torch.randn(5, n, dtype=torch.float64)
        a = d[key].double()
        assert torch.allclose(qr.apply_rows(a, M) @ qr.apply_rows(W, M).T, a @ W.T, atol=1e-9)


def test_gptq_same_hessian(case):
    _, seed, d = case
    out = qr.gptq(d["gptq.w"], d["gptq.h"], bits=4, damp=0.01, block=64)
    got = d["gptq.out"]
    diff = (out - got).abs()
    step = qr.weight_scale(d["gptq.w"], 4)[:, None].expand_as(out)
    # fp32 summation order may flip a rare rounding decision; everything else agrees closely
    flipped = diff > 1e-4 * step
    assert flipped.float().mean() < 0.01, (seed, flipped.sum())
    assert (diff[~flipped] <= 1e-4 * step[~flipped]).all()
    X_err = lambda q: ((d["gptq.w"] - q).double() @ d["gptq.h"].double() * (d["gptq.w"] - q).double()).sum()
    assert X_err(got) < X_err(qr.quantize_weight(d["gptq.w"], 4))  # GPTQ beats RTN on its Hessian


def _model(d, name):
    import llama_ref as ref
    c = ref.resolve_config(CONFIGS[name])
    params = {k[6:]: v for k, v in d.items() if k.startswith("param.")}
    return c, params


def test_kurtosis_both_protocols(case):
    name, seed, d = case
    c, params = _model(d, name)
    p = qr.fold(params, c)
    tokens = d["tokens"]
    for i, proto in enumerate(("token", "sequence")):
        avg, per_state = qr.kurtosis_stats(p, c, tokens, 4, 8, proto)
        assert abs(avg - d["kurt.average"][i].item()) <= 1e-4 * max(1.0, abs(avg)), (proto, seed)
        assert torch.allclose(per_state.float(), d[f"kurt.{proto}.states"], rtol=1e-4, atol=1e-5), (proto, seed)


def test_perplexity_w4a4kv4(case):
    name, seed, d = case
    c, params = _model(d, name)
    tokens = d["tokens"]
    fp = qr.perplexity(qr.fold(params, c), c, tokens, 16)
    assert abs(fp - d["ppl"][0].item()) <= 1e-4 * fp, seed
    qk_M = qr.hadamard_dense(c["head_dim"])
    for i, rotate in ((1, "none"), (2, "ffn")):
        p, ffn_M = qr.ptq(params, c, 4, rotate)
        # osp's quantized weights equal the reference's except rows at a genuine clip tie; the
        # folded embedding / head agree to fp32 rounding (different GEMM orders). The forwards
        # below then use osp's tensors, so that fp32 differences cannot flip 4-bit decisions.
        for k in list(p):
            key = f"q.{rotate}.{k}"
            assert key in d, key
            if "proj" not in k or "layers" not in k:
                assert torch.allclose(p[k], d[key], rtol=1e-5, atol=1e-6), (k, seed)
                p[k] = d[key]
            elif not torch.equal(p[k], d[key]):
                rows = (p[k] != d[key]).any(1)
                src = qr.ptq(params, c, 16, rotate)[0][k]
                s_osp = qr.scale_of(src, d[key], 4)
                assert not s_osp[rows].isnan().any(), (k, seed)
                assert qr.genuine_tie(src, 4, qr.weight_scale(src, 4), s_osp)[rows].all(), (k, seed)
                p[k] = d[key]
        # f64 forwards of the same tap logic on the same tensors. With A4 alone or KV4 alone
        # they agree to 1e-6 (typically 1e-9). With A4 and KV4 together some quantizer inputs
        # land on exact rounding ties (the reference alone moves by ~0.5 % when the embedding is
        # scaled by 1 ± 1e-12; docs/evaluation.md), so that setting is held to 5e-2.
        ppl64 = {}
        for j, (a, kv) in enumerate(((4, 16), (16, 4), (4, 4))):
            p64 = {k: v.double() for k, v in p.items()}
            ppl64[(a, kv)] = qr.perplexity(p64, c, tokens, 16, a_bits=a, kv_bits=kv,
                                           ffn_M=None if ffn_M is None else ffn_M.double(), qk_M=qk_M)
            got = d["ppl64"][i - 1, j].item()
            tol = 5e-2 if (a, kv) == (4, 4) else 1e-6
            assert abs(ppl64[(a, kv)] - got) <= tol * got, (rotate, a, kv, seed, ppl64[(a, kv)], got)
        ppl = ppl64[(4, 4)]
        assert ppl != fp  # quantization does something
        # osp's fp32 protocol run, W4A4KV4: fp32 rounding flips come on top of the ties above.
        assert abs(ppl - d["ppl"][i].item()) <= 5e-2 * ppl, (rotate, seed, ppl, d["ppl"][i].item())
