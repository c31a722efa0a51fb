"""PyTorch reference for measurement.md §1-§3, written from the spec (not from osp's C++).

Quantizers (§3.4-§3.6), Hadamard transforms (§3.8, own Paley constructions), GPTQ (§3.11),
kurtosis (§1.4-§1.5) and a fake-quantized forward (§3.2, §3.3, §3.7, §3.9) built from the model
reference's blocks (llama_ref.py). fp32 unless a function says otherwise.
"""
import math

import torch
import torch.nn.functional as F

import llama_ref as ref


# ---------------------------------------------------------------------------------------------
# §3.4-§3.6 quantizers. torch.round is round-half-to-even (spec §0).

def clip_errors(w, bits):
    """The 80 candidate scales (rows, 80) and their errors (rows, 80, fp64) of §3.4."""
    maxq = 2 ** (bits - 1) - 1
    m = torch.maximum(w.clamp(max=0).abs().amax(1), w.clamp(min=0).amax(1)).clamp(min=1e-5)
    ss, es = [], []
    for i in range(80):
        s = (torch.tensor(1 - i / 100, dtype=torch.float64).float() * m) / maxq
        q = s[:, None] * torch.clamp(torch.round(w / s[:, None]), -(maxq + 1), maxq)
        ss.append(s)
        es.append((q - w).abs().double().pow(2.4).sum(1))
    return torch.stack(ss, 1), torch.stack(es, 1)


def genuine_tie(w, bits, s_a, s_b, rel=1e-12):
    """True per row where scales s_a and s_b have errors equal to within `rel`: the sums of
    |q − w|^2.4 then depend on the summation order and pow's last bit, and either choice is
    correct (strict '<' cannot be reproduced across implementations there)."""
    ss, es = clip_errors(w, bits)
    ea = es.gather(1, (ss == s_a[:, None]).float().argmax(1, keepdim=True))[:, 0]
    eb = es.gather(1, (ss == s_b[:, None]).float().argmax(1, keepdim=True))[:, 0]
    return (ea - eb).abs() <= rel * torch.maximum(ea, eb)


def scale_of(w, q, bits):
    """Per row, the candidate scale of §3.4 whose RTN result is exactly q (nan if none)."""
    maxq = 2 ** (bits - 1) - 1
    ss, _ = clip_errors(w, bits)
    out = torch.full((w.shape[0],), float("nan"))
    for i in range(ss.shape[1]):
        s = ss[:, i]
        hit = (s[:, None] * torch.clamp(torch.round(w / s[:, None]), -(maxq + 1), maxq) == q).all(1)
        out = torch.where(hit & out.isnan(), s, out)
    return out


def weight_scale(w, bits):
    """§3.4 clip search for each row of w (rows, n), fp32. Errors summed in fp64 (see docs)."""
    maxq = 2 ** (bits - 1) - 1
    m = torch.maximum(w.clamp(max=0).abs().amax(1), w.clamp(min=0).amax(1))
    m = torch.clamp(m, min=1e-5)
    best = torch.full_like(m, float("inf"), dtype=torch.float64)
    scale = m / maxq
    for i in range(80):
        p = torch.tensor(1 - i / 100, dtype=torch.float64).float()
        s = (p * m) / maxq
        q = s[:, None] * torch.clamp(torch.round(w / s[:, None]), -(maxq + 1), maxq)
        err = (q - w).abs().double().pow(2.4).sum(1)
        better = err < best
        best = torch.where(better, err, best)
        scale = torch.where(better, s, scale)
    return scale


def quantize_weight(w, bits, scale=None):
    maxq = 2 ** (bits - 1) - 1
    s = weight_scale(w, bits) if scale is None else scale
    return s[:, None] * torch.clamp(torch.round(w / s[:, None]), -(maxq + 1), maxq)


def _fake(x, lo, hi, maxq):
    scale = (hi - lo) / maxq
    zero = torch.round(-lo / scale)
    return scale * (torch.clamp(torch.round(x / scale) + zero, 0, maxq) - zero)


def quantize_per_token(x, bits):
    """§3.5 over the last axis: asymmetric, range widened to include 0."""
    if bits >= 16:
        return x
    lo = x.amin(-1, keepdim=True).clamp(max=0)
    hi = x.amax(-1, keepdim=True).clamp(min=0)
    both0 = (lo == 0) & (hi == 0)
    lo = torch.where(both0, torch.full_like(lo, -1), lo)
    hi = torch.where(both0, torch.full_like(hi, 1), hi)
    return _fake(x, lo, hi, 2 ** bits - 1)


def quantize_groups(x, group, bits):
    """§3.6: groups of `group` consecutive features, exact min/max; constant non-zero groups
    are kept exact (osp's guard for quirk Q12)."""
    if bits >= 16:
        return x
    shape = x.shape
    g = x.reshape(-1, group)
    lo, hi = g.amin(1, keepdim=True), g.amax(1, keepdim=True)
    const = lo == hi
    zero_const = const & (lo == 0)
    lo2 = torch.where(zero_const, torch.full_like(lo, -1), torch.where(const, lo - 1, lo))
    hi2 = torch.where(zero_const, torch.full_like(hi, 1), torch.where(const, hi + 1, hi))
    q = _fake(g, lo2, hi2, 2 ** bits - 1)
    keep = const & ~zero_const
    return torch.where(keep.expand_as(g), g, q).reshape(shape)


# ---------------------------------------------------------------------------------------------
# §3.8 Hadamard matrices.

def sylvester(n):
    i = torch.arange(n)
    bits = (i[:, None] & i[None, :])
    par = torch.zeros_like(bits)
    while bits.any():
        par ^= bits & 1
        bits = bits >> 1
    return 1 - 2 * par  # (-1)^popcount(i AND j)


def _gf(p, e):
    """Elements of GF(p^e) as coefficient tuples, with subtraction and the quadratic character."""
    import itertools
    elems = list(itertools.product(range(p), repeat=e))
    if e == 1:
        mul = lambda a, b: ((a[0] * b[0]) % p,)
    else:
        # find a monic irreducible of degree e (no roots suffices for e <= 3)
        for mod in itertools.product(range(p), repeat=e):
            if all((x ** e + sum(c * x ** i for i, c in enumerate(mod))) % p for x in range(p)):
                break

        def mul(a, b):
            prod = [0] * (2 * e)
            for i in range(e):
                for j in range(e):
                    prod[i + j] += a[i] * b[j]
            for d in range(2 * e - 1, e - 1, -1):
                c = prod[d] % p
                prod[d] = 0
                for i in range(e):
                    prod[d - e + i] -= c * mod[i]
            return tuple(v % p for v in prod[:e])
    squares = {mul(a, a) for a in elems if any(a)}
    sub = lambda a, b: tuple((x - y) % p for x, y in zip(a, b))
    chi = lambda a: 0 if not any(a) else (1 if a in squares else -1)
    return elems, sub, chi


def _jacobsthal(p, e):
    elems, sub, chi = _gf(p, e)
    return torch.tensor([[chi(sub(a, b)) for b in elems] for a in elems])


def paley1(p, e=1):
    q = p ** e
    Q = _jacobsthal(p, e)
    S = torch.zeros(q + 1, q + 1, dtype=torch.long)
    S[0, 1:] = 1
    S[1:, 0] = -1
    S[1:, 1:] = Q
    return S + torch.eye(q + 1, dtype=torch.long)


def paley2(p, e=1):
    q = p ** e
    Q = _jacobsthal(p, e)
    C = torch.zeros(q + 1, q + 1, dtype=torch.long)
    C[0, 1:] = 1
    C[1:, 0] = 1
    C[1:, 1:] = Q
    A = torch.tensor([[1, 1], [1, -1]])
    B = torch.tensor([[1, -1], [-1, -1]])
    return torch.kron(C, A) + torch.kron(torch.eye(q + 1, dtype=torch.long), B)


def base_matrix(k):
    table = {1: lambda: torch.ones(1, 1, dtype=torch.long), 12: lambda: paley1(11),
             20: lambda: paley1(19), 28: lambda: paley1(3, 3), 36: lambda: paley2(17),
             40: lambda: torch.kron(torch.tensor([[1, 1], [1, -1]]), paley1(19)),
             44: lambda: paley1(43), 52: lambda: paley2(5, 2), 60: lambda: paley1(59),
             108: lambda: paley1(107), 140: lambda: paley1(139)}
    return table[k]()


SIZE_LIST = [172, 156, 140, 108, 60, 52, 36, 28, 44, 40, 20, 12]


def base_size(n):
    for k in SIZE_LIST:
        if n % k == 0 and ((n // k) & (n // k - 1)) == 0:
            return k
    assert n & (n - 1) == 0, n
    return 1


def hadamard_dense(n, hk=None):
    """M = (H_K ⊗ H_{n/K}) / sqrt(n), float64; hk overrides the base matrix."""
    k = base_size(n)
    hk = base_matrix(k) if hk is None else hk
    return torch.kron(hk.double(), sylvester(n // k).double()) / math.sqrt(n)


def apply_rows(x, M):
    """a <- M·a for each row a (= a·Mᵀ)."""
    return x @ M.T.to(x.dtype)


# ---------------------------------------------------------------------------------------------
# §3.11 GPTQ on one linear, given its Hessian.

def gptq(W, H, bits=4, damp=0.01, block=128):
    W = W.clone().float()
    H = H.clone().double()
    scale = weight_scale(W, bits)
    maxq = 2 ** (bits - 1) - 1
    dead = torch.diag(H) == 0
    H[dead, dead] = 1
    W[:, dead] = 0
    H += damp * torch.mean(torch.diag(H)) * torch.eye(H.shape[0], dtype=H.dtype)
    Hinv = torch.cholesky_inverse(torch.linalg.cholesky(H))
    U = torch.linalg.cholesky(Hinv, upper=True).float()
    out = torch.zeros_like(W)
    cols = W.shape[1]
    for i1 in range(0, cols, block):
        i2 = min(i1 + block, cols)
        err = torch.zeros(W.shape[0], i2 - i1)
        for i in range(i1, i2):
            q = scale * torch.clamp(torch.round(W[:, i] / scale), -(maxq + 1), maxq)
            out[:, i] = q
            e = (W[:, i] - q) / U[i, i]
            W[:, i:i2] -= e[:, None] * U[i, i:i2][None, :]
            err[:, i - i1] = e
        W[:, i2:] -= err @ U[i1:i2, i2:]
    return out


# ---------------------------------------------------------------------------------------------
# §1 kurtosis.

def kurtosis(x):
    """§1.4 per vector (last axis), float64: raw m4 over unbiased centred variance², minus 3."""
    x = x.double()
    m4 = x.pow(4).mean(-1)
    var = x.var(-1, unbiased=True)
    return m4 / var ** 2 - 3


def fold(params, c):
    """osp-method §3: SSNorm scalars → vectors, E·R1ᵀ, W_head·R2, untied."""
    D = c["hidden"]
    out = {}
    for name, t in params.items():
        if name.endswith("norm.weight") or name.endswith("layernorm.weight"):
            out[name] = t.expand(D).clone() if t.dim() == 0 else t.clone()
        elif name in ("model.embed_proj.weight", "model.head_proj.weight"):
            continue
        else:
            out[name] = t.clone()
    E = params["model.embed_tokens.weight"]
    head = E if c["tie"] else params["lm_head.weight"]
    if c["emb_proj"]:
        out["model.embed_tokens.weight"] = E @ params["model.embed_proj.weight"].T
        head = head @ params["model.head_proj.weight"]
    out["lm_head.weight"] = head.clone()
    return out


def forward(p, c, ids, a_bits=16, kv_bits=16, ffn_M=None, qk_M=None, states=None, only=None, sites=None):
    """Fake-quantized forward of a folded model (§3.2, §3.7, §3.9); appends hidden states
    (§1.3) to `states` when given. ids (B, T) -> logits (B, T, V). `only` = (layer, site) with
    site in SITES quantizes that site alone; `sites`, a dict, receives every site's input (K after
    RoPE) as (rows, width) under (layer, site)."""
    B, T = ids.shape
    H, Hkv, Dh, eps = c["heads"], c["kv_heads"], c["head_dim"], c["norm_eps"]
    x = p["model.embed_tokens.weight"][ids.long()]
    if states is not None:
        states.append(x)
    cos, sin = ref.rope_tables(T, Dh, c["rope_theta"], x.dtype)

    def site(l, name, t, bits):
        if sites is not None:
            sites[(l, name)] = t.reshape(-1, t.shape[-1]) if name != "k" else t.transpose(1, 2).reshape(B * T, -1)
        return bits if only is None or only == (l, name) else 16

    for l in range(c["layers"]):
        pre = f"model.layers.{l}."
        h = ref.rms_norm(x, p[pre + "input_layernorm.weight"], eps)
        h = quantize_per_token(h, site(l, "q_proj.input", h, a_bits))
        a = pre + "self_attn."
        q = (h @ p[a + "q_proj.weight"].T).view(B, T, H, Dh).transpose(1, 2)
        k = (h @ p[a + "k_proj.weight"].T).view(B, T, Hkv, Dh).transpose(1, 2)
        v = h @ p[a + "v_proj.weight"].T
        v = quantize_groups(v, Dh, site(l, "v", v, kv_bits))
        v = v.view(B, T, Hkv, Dh).transpose(1, 2)
        q, k = ref.rope(q, cos, sin), ref.rope(k, cos, sin)
        k_bits = site(l, "k", k, kv_bits)
        if k_bits < 16:
            q, k = apply_rows(q, qk_M), apply_rows(k, qk_M)
            k = quantize_per_token(k, k_bits)
        k, v = ref.expand_kv(k, H), ref.expand_kv(v, H)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(Dh)
        s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        o = (torch.softmax(s, -1) @ v).transpose(1, 2).reshape(B, T, H * Dh)
        x = x + quantize_groups(o, Dh, site(l, "o_proj.input", o, a_bits)) @ p[a + "o_proj.weight"].T
        h = ref.rms_norm(x, p[pre + "post_attention_layernorm.weight"], eps)
        h = quantize_per_token(h, site(l, "gate_proj.input", h, a_bits))
        m = pre + "mlp."
        act = F.silu(h @ p[m + "gate_proj.weight"].T) * (h @ p[m + "up_proj.weight"].T)
        if ffn_M is not None:
            act = apply_rows(act, ffn_M)
        x = x + quantize_per_token(act, site(l, "down_proj.input", act, a_bits)) @ p[m + "down_proj.weight"].T
        if states is not None and l + 1 < c["layers"]:
            states.append(x)
    n = ref.rms_norm(x, p["model.norm.weight"], eps)
    if states is not None:
        states.append(n)
    return n @ p["lm_head.weight"].T


SITES = ("q_proj.input", "o_proj.input", "gate_proj.input", "down_proj.input", "k", "v")


def ptq(params, c, w_bits, rotate):
    """§3.3 for `none` / `ffn` with RTN weights; returns (folded quantized params, ffn_M)."""
    p = fold(params, c)
    ffn_M = None
    if rotate == "ffn":
        ffn_M = hadamard_dense(c["ffn"])  # float64; offline compensation in f64 (§3.12)
        for l in range(c["layers"]):
            name = f"model.layers.{l}.mlp.down_proj.weight"
            p[name] = apply_rows(p[name].double(), ffn_M).float()
    if w_bits < 16:
        for name in list(p):
            if any(s in name for s in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                       "up_proj", "down_proj")):
                p[name] = quantize_weight(p[name], w_bits)
    return p, ffn_M


def perplexity(p, c, tokens, window, **kw):
    """§2: non-overlapping windows, tail dropped, W-1 predictions each, fp64 sum."""
    n = len(tokens) // window
    ids = torch.as_tensor(tokens[: n * window]).view(n, window)
    logits = forward(p, c, ids, **kw)
    nll = torch.logsumexp(logits[:, :-1], -1) - logits[:, :-1].gather(-1, ids[:, 1:, None].long())[..., 0]
    return math.exp(nll.double().sum().item() / (n * (window - 1)))


def kurtosis_stats(p, c, tokens, rows, width, protocol):
    """§1.2/§1.5: average of per-(row, state) means of k⁺, and the per-state means."""
    ids = torch.as_tensor(tokens[: rows * width]).view(rows, width)
    st = []
    forward(p, c, ids.reshape(-1, 1) if protocol == "token" else ids, states=st)
    per_state = []
    for s in st:
        k = kurtosis(s.reshape(rows, width, -1)).clamp(min=0)  # (rows, width)
        per_state.append(k.mean(1))                            # per-row means
    table = torch.stack(per_state, 1)                          # (rows, L+1)
    return table.mean().item(), table.mean(0)
