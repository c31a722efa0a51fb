"""PyTorch reference of the osp model (spec osp-method.md §1), written from the spec only.

Forward pass only; gradients come from torch autograd. Runs in float64 (the oracle for the C++
fp32 engine) or float32 (to show what honest fp32 rounding costs). Parameters are a dict
name -> tensor with the spec's names and shapes (§1.11).
"""
import math

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100  # §1.8


def default_ffn(hidden):
    """§1.6: floor(8D/3) rounded up to a multiple of 128."""
    return ((8 * hidden // 3 + 127) // 128) * 128


def resolve_config(config):
    """Fills the §1.1 defaults and refuses a bad configuration, naming the field."""
    c = dict(config)
    c.setdefault("kv_heads", c["heads"])
    c.setdefault("ffn", default_ffn(c["hidden"]))
    c.setdefault("rope_theta", 10000.0)
    c.setdefault("norm_eps", 1e-5)
    c.setdefault("norm", "rms")
    c.setdefault("emb_proj", False)
    c.setdefault("tie", False)
    for k in ("layers", "hidden", "heads", "kv_heads", "ffn", "vocab"):
        if c[k] < 1:
            raise ValueError(f"{k} must be >= 1, got {c[k]}")
    if c["hidden"] % c["heads"]:
        raise ValueError(f"heads ({c['heads']}) must divide hidden ({c['hidden']})")
    if c["heads"] % c["kv_heads"]:
        raise ValueError(f"kv_heads ({c['kv_heads']}) must divide heads ({c['heads']})")
    if (c["hidden"] // c["heads"]) % 2:
        raise ValueError("head_dim = hidden / heads must be even (RoPE pairs)")
    if c["norm"] not in ("rms", "ssnorm"):
        raise ValueError(f"norm must be 'rms' or 'ssnorm', got {c['norm']!r}")
    if c["rope_theta"] <= 0 or c["norm_eps"] <= 0:
        raise ValueError("rope_theta and norm_eps must be > 0")
    c["head_dim"] = c["hidden"] // c["heads"]
    return c


def param_shapes(config):
    """Name -> shape for every parameter, in the order of §1.11."""
    c = resolve_config(config)
    D, V, F_, Dh = c["hidden"], c["vocab"], c["ffn"], c["head_dim"]
    H, Hkv = c["heads"], c["kv_heads"]
    gain = () if c["norm"] == "ssnorm" else (D,)  # SSNorm gain is a 0-D tensor (§1.3)
    shapes = {"model.embed_tokens.weight": (V, D)}
    if c["emb_proj"]:
        shapes["model.embed_proj.weight"] = (D, D)
    for i in range(c["layers"]):
        p = f"model.layers.{i}."
        shapes[p + "input_layernorm.weight"] = gain
        shapes[p + "self_attn.q_proj.weight"] = (H * Dh, D)
        shapes[p + "self_attn.k_proj.weight"] = (Hkv * Dh, D)
        shapes[p + "self_attn.v_proj.weight"] = (Hkv * Dh, D)
        shapes[p + "self_attn.o_proj.weight"] = (D, H * Dh)
        shapes[p + "post_attention_layernorm.weight"] = gain
        shapes[p + "mlp.gate_proj.weight"] = (F_, D)
        shapes[p + "mlp.up_proj.weight"] = (F_, D)
        shapes[p + "mlp.down_proj.weight"] = (D, F_)
    shapes["model.norm.weight"] = gain
    if c["emb_proj"]:
        shapes["model.head_proj.weight"] = (D, D)
    if not c["tie"]:
        shapes["lm_head.weight"] = (V, D)
    return shapes


# ---------------------------------------------------------------------------------------------
# Building blocks. forward() looks these up as module globals, so a test can swap one for a
# deliberately wrong variant and show that the tolerance catches it.

def rms_norm(x, gain, eps):
    """§1.3: eps inside the square root; gain of shape (D) (rms) or () (ssnorm) broadcasts."""
    r = torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return x * r * gain


def rope_tables(T, head_dim, theta, dtype):
    """cos, sin of shape (T, Dh/2) with the exact fp32 angle arithmetic of §1.4.

    e_i = fl32(fl32(2i)/Dh), inv_i = fl32(1/fl32(theta^e_i)), a = fl32(p*inv_i); every step is
    one correctly rounded fp32 operation (theta^e is taken in float64, then rounded once).
    cos/sin are then evaluated in float64 on the fp32 angle ("fp32 precision or better").
    """
    e = torch.arange(0, head_dim, 2, dtype=torch.float32) / float(head_dim)
    pw = (torch.tensor(float(theta), dtype=torch.float64) ** e.double()).float()
    inv = 1.0 / pw                                                    # fp32 division
    a = torch.arange(T, dtype=torch.float32)[:, None] * inv[None, :]  # fp32 product, (T, Dh/2)
    return a.double().cos().to(dtype), a.double().sin().to(dtype)


def rope(z, cos, sin):
    """§1.4 half-split RoPE: element i pairs with i + Dh/2. z: (..., T, Dh)."""
    half = z.shape[-1] // 2
    z1, z2 = z[..., :half], z[..., half:]
    return torch.cat([z1 * cos - z2 * sin, z2 * cos + z1 * sin], dim=-1)


def expand_kv(kv, heads):
    """§1.4 GQA: query head a reads kv head a // (H/Hkv) (consecutive groups, like repeat_kv).
    kv: (B, Hkv, T, Dh) -> (B, H, T, Dh)."""
    return kv.repeat_interleave(heads // kv.shape[1], dim=1)


def attention(h, params, prefix, c, cos, sin):
    """§1.4 causal multi-head attention with RoPE and GQA; h: (B, T, D) -> (B, T, D)."""
    B, T, _ = h.shape
    H, Hkv, Dh = c["heads"], c["kv_heads"], c["head_dim"]
    # Features are head-major (f = head*Dh + d), hence view(..., heads, Dh).
    q = (h @ params[prefix + "q_proj.weight"].T).view(B, T, H, Dh).transpose(1, 2)
    k = (h @ params[prefix + "k_proj.weight"].T).view(B, T, Hkv, Dh).transpose(1, 2)
    v = (h @ params[prefix + "v_proj.weight"].T).view(B, T, Hkv, Dh).transpose(1, 2)
    q, k = rope(q, cos, sin), rope(k, cos, sin)  # v is not rotated
    k, v = expand_kv(k, H), expand_kv(v, H)
    s = (q @ k.transpose(-1, -2)) / math.sqrt(Dh)                     # (B, H, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=h.device).triu(1)
    s = s.masked_fill(future, float("-inf"))
    o = torch.softmax(s, dim=-1) @ v                                  # (B, H, T, Dh)
    return o.transpose(1, 2).reshape(B, T, H * Dh) @ params[prefix + "o_proj.weight"].T


def swiglu(h, params, prefix):
    """§1.5: (silu(h Wgate^T) * (h Wup^T)) Wdown^T; gate_proj is the SiLU branch."""
    g = h @ params[prefix + "gate_proj.weight"].T
    u = h @ params[prefix + "up_proj.weight"].T
    return (F.silu(g) * u) @ params[prefix + "down_proj.weight"].T


def forward(params, config, input_ids):
    """§1.2 pre-norm Llama. input_ids: (B, T) integer -> logits (B, T, V) in the params' dtype."""
    c = resolve_config(config)
    E = params["model.embed_tokens.weight"]                           # (V, D)
    T = input_ids.shape[1]
    eps = c["norm_eps"]
    x = E[input_ids.long()]                                           # (B, T, D)
    if c["emb_proj"]:
        x = x @ params["model.embed_proj.weight"].T                   # R1 (§1.7)
    # Positions restart at 0 in every sequence (§1.2), so one table serves the batch.
    cos, sin = rope_tables(T, c["head_dim"], c["rope_theta"], E.dtype)
    for i in range(c["layers"]):
        p = f"model.layers.{i}."
        x = x + attention(rms_norm(x, params[p + "input_layernorm.weight"], eps),
                          params, p + "self_attn.", c, cos, sin)
        x = x + swiglu(rms_norm(x, params[p + "post_attention_layernorm.weight"], eps),
                       params, p + "mlp.")
    n = rms_norm(x, params["model.norm.weight"], eps)
    if c["emb_proj"]:
        n = n @ params["model.head_proj.weight"].T                    # R2 (§1.7)
    W = E if c["tie"] else params["lm_head.weight"]                   # tie: same tensor (§1.8)
    return n @ W.T


def loss(logits, targets):
    """§1.8: sum of per-target NLL over targets != -100, divided by their count.

    With no counted target this is 0/0 = nan; the spec does not define that case.
    """
    V = logits.shape[-1]
    t = targets.reshape(-1).long()
    nll = F.cross_entropy(logits.reshape(-1, V), t, ignore_index=IGNORE_INDEX, reduction="sum")
    return nll / (t != IGNORE_INDEX).sum()


def rel_err(a, b):
    """Relative error of a against the reference b: max|a - b| / max|b| over the whole tensor.

    Normalising by the tensor's largest entry (not element-wise) keeps entries near zero, whose
    element-wise relative error is meaningless, from dominating; it is the error in units of the
    tensor's scale.
    """
    a, b = torch.as_tensor(a).double(), torch.as_tensor(b).double()
    scale = b.abs().max().item() if b.numel() else 0.0
    diff = (a - b).abs().max().item() if b.numel() else 0.0
    return diff / scale if scale > 0 else diff


# ---------------------------------------------------------------------------------------------
# §1.10 initialisation (init = fan_in), for self-tests. The random stream is ours, as the spec
# allows; the C++ engine draws its own parameters and ships them in the dump.

def _trunc_normal(shape, std, gen):
    """z ~ N(0,1) conditioned on |z| <= 2, scaled so the standard deviation is exactly std."""
    z = torch.randn(shape, generator=gen, dtype=torch.float64)
    while True:
        bad = z.abs() > 2
        if not bad.any():
            return z * (std / 0.8796256610342398)
        z[bad] = torch.randn(int(bad.sum()), generator=gen, dtype=torch.float64)


def _orthogonal(D, gen):
    """§1.7: A = QR with A ~ N(0,1), Q * diag(sign(diag R))."""
    q, r = torch.linalg.qr(torch.randn(D, D, generator=gen, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))[None, :]


def init_params(config, seed=0, dtype=torch.float64, random_gains=False):
    """Parameters drawn per §1.10. random_gains=True draws norm gains in [0.5, 1.5] instead of
    the spec's 1, so that tests see gains that matter (all-ones gains hide gain bugs)."""
    c = resolve_config(config)
    gen = torch.Generator().manual_seed(seed)
    params = {}
    for name, shape in param_shapes(c).items():
        if name.endswith("layernorm.weight") or name == "model.norm.weight":
            w = (0.5 + torch.rand(shape, generator=gen, dtype=torch.float64) if random_gains
                 else torch.ones(shape, dtype=torch.float64))
        elif name == "model.embed_tokens.weight":
            w = torch.randn(shape, generator=gen, dtype=torch.float64) / math.sqrt(c["hidden"])
        elif name in ("model.embed_proj.weight", "model.head_proj.weight"):
            w = _orthogonal(c["hidden"], gen)
        else:  # every linear weight: truncated normal with std 1/sqrt(in_features)
            w = _trunc_normal(shape, 1.0 / math.sqrt(shape[1]), gen)
        params[name] = w.to(dtype).contiguous()  # QR yields column-major storage
    return params
