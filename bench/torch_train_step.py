"""PyTorch side of bench_train_step and bench_eval: the same model (tests/reference/llama_ref.py,
eager fp32) timed for forward + loss + backward, no optimizer, or with --forward-only for the
forward and loss under torch.no_grad() (evaluation). --autocast-bf16 runs the forward under
torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's CPU mixed precision (fp32 parameters,
bf16 matmuls). Prints one JSON line.

Usage: torch_train_step.py --config JSON --batch B --seq T --steps N --warmup W --threads K
                           [--forward-only] [--autocast-bf16]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "reference"))
import llama_ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--forward-only", action="store_true")
    ap.add_argument("--autocast-bf16", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    config = json.loads(a.config)
    gen = torch.Generator().manual_seed(0)
    params = {name: (torch.randn(shape, generator=gen, dtype=torch.float32) * 0.02).requires_grad_()
              for name, shape in llama_ref.param_shapes(config).items()}
    V = config["vocab"]
    ids = torch.randint(0, V, (a.batch, a.seq), generator=gen)
    targets = torch.randint(0, V, (a.batch, a.seq), generator=gen)
    times = []
    for step in range(a.warmup + a.steps):
        for p in params.values():
            p.grad = None
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast_bf16):
            if a.forward_only:
                with torch.no_grad():
                    llama_ref.loss(llama_ref.forward(params, config, ids), targets)
            else:
                loss = llama_ref.loss(llama_ref.forward(params, config, ids), targets)
        if not a.forward_only:
            loss.backward()
        dt = time.perf_counter() - t0
        if step >= a.warmup:
            times.append(dt)
    times.sort()
    print(json.dumps({"median_s": times[len(times) // 2], "min_s": times[0],
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "blas": os.environ.get("OPENBLAS_CORETYPE", "auto"),
                      "autocast_bf16": a.autocast_bf16}))


if __name__ == "__main__":
    main()
