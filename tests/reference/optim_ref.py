"""PyTorch reference of osp's optimizers (spec osp-method.md §2), written from the spec only.

AdamW is torch.optim.AdamW itself (§2.1 defines it as PyTorch's arithmetic); Muon, the parameter
groups, the schedule and clipping are written here from §2.2-§2.4. Everything runs in the dtype
of the parameters handed in: float64 is the oracle for the C++ fp32 engine, float32 shows what
honest fp32 rounding costs (the NS5 iteration then runs in fp32, as §2.2 prescribes for the CPU).

Parameters and gradients are dicts name -> tensor with the §1.11 names and shapes.

The pieces below are module globals looked up at call time, so a test can swap one for a
deliberately wrong variant and show that the cross-check tolerance catches it.
"""
import math

import torch

NS_COEFFS = (3.4445, -4.7750, 2.0315)  # §2.2 NS5: (a, b, c), the same in every iteration
CLIP_EPS = 1e-6                        # clip coefficient clip / (norm + 1e-6), as in torch

EMBED = "model.embed_tokens.weight"
HEAD = "lm_head.weight"
R1, R2 = "model.embed_proj.weight", "model.head_proj.weight"


def is_gain(name):
    """Norm gains: vectors with `rms`, 0-D scalars with `ssnorm` (§1.11)."""
    return name.endswith("layernorm.weight") or name == "model.norm.weight"


# --- §2.4 schedule ------------------------------------------------------------------------------

def round_half_even(x):
    """§0: every rounding to an integer is half to even (Python's round() on a float is)."""
    return int(round(x))


def schedule_multiplier(t, sched):
    """s(t) for the optimizer step t = 1, 2, ... (§2.4, defaults §2.5).

    Every kind starts with the linear warmup s = t / warmup for t <= warmup (none if warmup = 0;
    s(1) = 1/warmup, never 0, so the first step moves the parameters). Then:
      constant: s = 1.  The spec names only cosine and WSD; a constant schedule that still honours
                warmup_steps is our reading (flagged in the report).
      cosine:   s = min_ratio + (1 - min_ratio) * (1 + cos(pi * p)) / 2, p = (t - warmup) /
                (total - warmup), clamped to p <= 1 (min_ratio at t = total and beyond).
      wsd:      n = round_half_even(decay_fraction * total) decay steps, start = total - n;
                s = 1 on (warmup, start], then s = 1 - (1 - min_ratio) * (t - start) / n on
                (start, total], reaching min_ratio exactly at t = total (and held after it).
                This is the discrete analogue of the cosine's p: the last stable step has s = 1,
                the first decay step is already below 1, the last step is at min_ratio. The spec
                gives no formula for WSD, so this is our choice, flagged in the report; so is the
                overlap of warmup and decay (here the ramp wins for t <= warmup).
    """
    kind, total = sched["kind"], sched["total_steps"]
    warmup, m = sched["warmup_steps"], sched["min_ratio"]
    if t <= warmup:
        return t / warmup
    if kind == "constant":
        return 1.0
    if kind == "cosine":
        p = 1.0 if t >= total else (t - warmup) / (total - warmup)
        return m + (1.0 - m) * 0.5 * (1.0 + math.cos(math.pi * p))
    if kind == "wsd":
        n = round_half_even(sched["decay_fraction"] * total)
        start = total - n
        if n <= 0 or t <= start:
            return 1.0
        return 1.0 - (1.0 - m) * min(1.0, (t - start) / n)
    raise ValueError(f"schedule kind must be cosine, wsd or constant, got {kind!r}")


# --- §2.3 parameter groups ----------------------------------------------------------------------

def assign_groups(shapes, groups, decay_norms):
    """name -> (optimizer, decayed) per the §2.3 table.

    adam: everything AdamW. muon (= OSP): Muon for R1, R2 and the block matrices; AdamW for the
    embedding, the head and all norm gains. muon-only: everything Muon. A tied embedding is one
    parameter in the embedding's row (it simply has no separate lm_head entry).
    Weight decay (§2.3 decision): tensors of >= 2 dims get their group's wd; 0-D and 1-D tensors
    get none unless decay_norms.
    """
    if groups not in ("adam", "muon", "muon-only"):
        raise ValueError(f"optim groups must be adam, muon or muon-only, got {groups!r}")
    out = {}
    for name, shape in shapes.items():
        if groups == "adam":
            opt = "adamw"
        elif groups == "muon-only":
            opt = "muon"
        else:
            opt = "adamw" if name in (EMBED, HEAD) or is_gain(name) else "muon"
        out[name] = (opt, len(shape) >= 2 or bool(decay_norms))
    return out


# --- §2.4 clipping ------------------------------------------------------------------------------

def global_norm(grads):
    """L2 norm over all gradients of both groups (§2.4), in the gradients' dtype."""
    return torch.sqrt(sum((g * g).sum() for g in grads.values())).item()


def clip_by_global_norm(grads, clip):
    """(clipped gradients, raw global norm). Clipping happens before either optimizer runs
    (§2.4): if clip > 0 and norm > clip every gradient is scaled by clip / (norm + 1e-6), as
    torch.nn.utils.clip_grad_norm_ does; clip = 0 disables it."""
    norm = global_norm(grads)
    if clip > 0 and norm > clip:
        coef = clip / (norm + CLIP_EPS)
        return {k: g * coef for k, g in grads.items()}, norm
    return dict(grads), norm


# --- §2.1 AdamW ---------------------------------------------------------------------------------

def make_adamw(param_groups, betas, eps):
    """torch.optim.AdamW itself: §2.1 is defined as its arithmetic (decay with the old θ, bias
    correction, eps outside the square root). foreach=False pins the single-tensor path."""
    return torch.optim.AdamW(param_groups, betas=betas, eps=eps, foreach=False)


# --- §2.2 Muon ----------------------------------------------------------------------------------

def muon_momentum(M, G, beta):
    """§2.2 step 1: undamped momentum then Nesterov look-ahead with the UPDATED buffer:
    M <- G + beta*M (stored, no (1 - beta) factor); U = G + beta*M = (1+beta)G + beta^2 M_old."""
    M.mul_(beta).add_(G)
    return G + beta * M


def ns5(U, steps, eps, dtype=torch.float32):
    """§2.2 NS5 on a 2-D U (m x n), computed in `dtype` (fp32 as the spec; float64 for analysis).

    Transpose to the wide orientation (rows <= cols) if m > n; X = U / (||U||_F + eps); `steps`
    times A = X X^T, X <- aX + (bA + cA A) X; transpose back."""
    X = U.to(dtype)
    transposed = X.shape[0] > X.shape[1]
    if transposed:
        X = X.T
    X = X / (torch.linalg.norm(X) + eps)  # Frobenius norm of the whole matrix
    a, b, c = NS_COEFFS
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
    return X.T if transposed else X


def muon_orthogonalise(U, eps, ns_steps, ns_dtype):
    """§2.2 step 2: 0-D/1-D -> U / (||U||_2 + eps) (no Newton-Schulz; sign(U) for a scalar up to
    eps); 2-D -> NS5. 3-D tensors do not occur in osp (§2.2.1)."""
    if U.dim() < 2:
        return U / (torch.linalg.vector_norm(U) + eps)
    if U.dim() == 2:
        return ns5(U, ns_steps, eps, ns_dtype).to(U.dtype)
    raise ValueError(f"Muon got a {U.dim()}-D tensor; osp has none (§2.2.1)")


def muon_scale(shape):
    """§2.2 step 3: 0.2 * sqrt(max(shape)); max(shape) = n for a 1-D tensor, 1 for a 0-D one."""
    return 0.2 * math.sqrt(max(shape) if len(shape) else 1)


def muon_apply(W, O, lr, wd):
    """§2.2 step 4: W <- W - lr * (O + wd * W); the decay uses the old W and the scheduled lr."""
    W.sub_(lr * (O + wd * W))


# --- the combined optimizer ---------------------------------------------------------------------

class OspOptimizer:
    """AdamW and Muon over one parameter dict with osp's groups, schedule and clipping.

    `params` (name -> tensor, all of one float dtype) is updated in place. `optim` is the dict of
    the dump contract: groups, adamw{lr,beta1,beta2,eps,wd}, muon{lr,beta,ns_steps,eps,wd},
    decay_norms, clip, schedule{kind,total_steps,warmup_steps,min_ratio,decay_fraction}.
    ns_dtype: dtype of the NS5 iteration (default: that of the parameters).
    """

    def __init__(self, params, optim, ns_dtype=None):
        self.params, self.cfg, self.t = params, optim, 0
        dtype = next(iter(params.values())).dtype
        self.ns_dtype = ns_dtype or dtype
        shapes = {k: tuple(v.shape) for k, v in params.items()}
        self.assignment = assign_groups(shapes, optim["groups"], optim["decay_norms"])
        a = optim["adamw"]
        # One param group per (lr, wd): the base lr is the same for all AdamW tensors, wd is
        # adamw.wd or 0 (undecayed gains). lr is rewritten to base * s(t) before every step.
        by_wd = {}
        for name, (opt, decayed) in self.assignment.items():
            if opt == "adamw":
                by_wd.setdefault(a["wd"] if decayed else 0.0, []).append(params[name])
        self.adamw = None
        if by_wd:
            self.adamw = make_adamw([{"params": ps, "lr": a["lr"], "weight_decay": wd}
                                     for wd, ps in by_wd.items()],
                                    (a["beta1"], a["beta2"]), a["eps"])
        # One fp32 (here: parameter-dtype) momentum buffer per Muon tensor, zero at start.
        self.momentum = {name: torch.zeros_like(params[name])
                         for name, (opt, _) in self.assignment.items() if opt == "muon"}

    @torch.no_grad()
    def step(self, grads):
        """One optimizer step on the RAW gradients; returns (raw global norm, s(t))."""
        self.t += 1
        s = schedule_multiplier(self.t, self.cfg["schedule"])
        clipped, norm = clip_by_global_norm(grads, self.cfg["clip"])
        if self.adamw is not None:
            for group in self.adamw.param_groups:
                group["lr"] = self.cfg["adamw"]["lr"] * s  # the decay uses it too (§2.4)
            for name, (opt, _) in self.assignment.items():
                if opt == "adamw":
                    self.params[name].grad = clipped[name].to(self.params[name].dtype)
            self.adamw.step()
        mu = self.cfg["muon"]
        lr = mu["lr"] * s
        for name, M in self.momentum.items():
            W = self.params[name]
            U = muon_momentum(M, clipped[name].to(W.dtype), mu["beta"])
            O = muon_scale(tuple(W.shape)) * muon_orthogonalise(U, mu["eps"], mu["ns_steps"],
                                                                self.ns_dtype)
            muon_apply(W, O, lr, mu["wd"] if self.assignment[name][1] else 0.0)
        return norm, s


def run(init, grads, optim, steps, dtype=torch.float64, ns_dtype=None):
    """Replays `steps` optimizer steps from `init` on the given RAW gradients.

    init: name -> array; grads: step k (1-based) -> name -> array. Returns a list over k of
    dicts {"params": name -> tensor after step k, "grad_norm": float, "lr_mult": float}.
    """
    params = {k: torch.as_tensor(v).to(dtype).clone() for k, v in init.items()}
    opt = OspOptimizer(params, optim, ns_dtype)
    out = []
    for k in range(1, steps + 1):
        norm, s = opt.step({n: torch.as_tensor(g).to(dtype) for n, g in grads[k].items()})
        out.append({"params": {n: p.detach().clone() for n, p in params.items()},
                    "grad_norm": norm, "lr_mult": s})
    return out
