"""bench_real_model: a published model end to end, osp beside transformers in one run, same
threads: GGUF import time, evaluation (forward over T tokens, as perplexity does) and greedy
generation (prefill, then KV-cached decoding) tokens/s, each with its MFU (model FLOPs over the
machine's fp32 GEMM roofline that `osp --version` reports).

    .venv/bin/python bench/bench_real_model.py [--osp build/osp] [--model .fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf]
                                               [--threads 2] [--tokens 512] [--new 64] [--repeats 3]

Both engines compute in fp32 on the dequantized weights (osp decodes the GGUF once; transformers
dequantizes it on load with the gguf package). llama.cpp, which runs the quantized blocks
directly, is measured by hand (BENCHMARKS.md)."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sh(*args, env=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.exit(f"{args}: rc={p.returncode}\n{p.stderr}")
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--osp", default=str(ROOT / "build" / "osp"))
    ap.add_argument("--model", default=str(ROOT / ".fixtures" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(a.threads), "OMP_WAIT_POLICY": "passive"}
    model = Path(a.model)

    import torch
    import transformers
    torch.set_num_threads(a.threads)

    version = sh(a.osp, "--version", env=env).stdout
    peak = float(re.search(r"f32 GEMM (\d+(?:\.\d+)?) GFLOP/s", version).group(1)) * 1e9
    info = json.loads(sh(a.osp, "info", model, "--json", env=env).stdout)
    c = info["config"]
    L, D, V, F = c["layers"], c["hidden"], c["vocab"], c["ffn"]
    kvd = D // c["heads"] * c["kv_heads"]
    linear = L * (2 * D * D + 2 * D * kvd + 3 * D * F) + V * D  # weights every token multiplies
    def flops_per_token(context):  # 2 per multiply-add; attention q·k and p·v over `context` keys
        return 2 * linear + 4 * L * D * context

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows = []
        # GGUF import: decode every tensor to fp32 and write the osp model file.
        t0 = time.perf_counter()
        sh(a.osp, "import", "gguf", model, tmp / "m.safetensors", env=env)
        osp_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        hf = transformers.AutoModelForCausalLM.from_pretrained(model.parent, gguf_file=model.name,
                                                               torch_dtype=torch.float32).eval()
        hf_load = time.perf_counter() - t0
        rows.append(("GGUF import / load (s)", osp_import, hf_load, None, None))

        text = Path("/usr/share/common-licenses/GPL-3")
        ids = json.loads(sh(a.osp, "tokenize", "--model", model, "--input", text, "--json", env=env).stdout)
        ids = ids[: a.tokens]
        (tmp / "ids.txt").write_text(" ".join(map(str, ids)))
        # Evaluation forward: osp eval logits reports its forward time (the load excluded).
        best = float("inf")
        for _ in range(a.repeats):
            p = sh(a.osp, "eval", "logits", tmp / "m.safetensors", "--tokens", tmp / "ids.txt",
                   "--out", tmp / "l.safetensors", env=env)
            best = min(best, float(re.search(r"in ([0-9.]+) s", p.stderr).group(1)))
        osp_eval = len(ids) / best
        x = torch.tensor([ids])
        best = float("inf")
        with torch.no_grad():
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                hf(x)
                best = min(best, time.perf_counter() - t0)
        hf_eval = len(ids) / best
        f_eval = flops_per_token(len(ids) / 2)
        rows.append((f"eval forward, T={len(ids)} (tokens/s)", osp_eval, hf_eval, osp_eval * f_eval / peak,
                     hf_eval * f_eval / peak))

        # Greedy generation of --new tokens after a 64-token prompt.
        prompt_ids = ids[:64]
        (tmp / "prompt.txt").write_text(" ".join(map(str, prompt_ids)))
        prompt = sh(a.osp, "detokenize", "--model", tmp / "m.safetensors", "--input", tmp / "prompt.txt", env=env).stdout
        best = None
        for _ in range(a.repeats):
            p = sh(a.osp, "generate", tmp / "m.safetensors", "--prompt", prompt, "--max-tokens", a.new,
                   "--temperature", 0, "--ignore-eos", "--json", env=env)
            g = json.loads(p.stdout)
            if best is None or g["decode_seconds"] < best["decode_seconds"]:
                best = g
        osp_prefill = best["prefill_tokens"] / best["prefill_seconds"]
        osp_decode = best["decode_tokens"] / best["decode_seconds"]
        hf.generation_config.eos_token_id = None
        hf.generation_config.pad_token_id = 0
        xp = torch.tensor([best["prompt_ids"]])
        hf_total = float("inf")
        with torch.no_grad():
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                out = hf.generate(xp, max_new_tokens=a.new, do_sample=False, synced_gpus=False)
                hf_total = min(hf_total, time.perf_counter() - t0)
            t0 = time.perf_counter()
            hf(xp)
            hf_prefill_s = time.perf_counter() - t0
        same = out[0, xp.shape[1]:].tolist() == best["ids"]
        hf_decode = (a.new - 1) / max(hf_total - hf_prefill_s, 1e-9)
        n_prompt = xp.shape[1]
        rows.append((f"prefill, {n_prompt} tokens (tokens/s)", osp_prefill, n_prompt / hf_prefill_s,
                     osp_prefill * flops_per_token(n_prompt / 2) / peak,
                     n_prompt / hf_prefill_s * flops_per_token(n_prompt / 2) / peak))
        ctx_mid = n_prompt + a.new / 2
        rows.append((f"decode, {a.new} new tokens (tokens/s)", osp_decode, hf_decode,
                     osp_decode * flops_per_token(ctx_mid) / peak, hf_decode * flops_per_token(ctx_mid) / peak))

    print(f"model {model.name}: L={L} D={D} F={F} V={V}, {info['parameters']} parameters; "
          f"{a.threads} threads; fp32 roofline {peak / 1e9:.0f} GFLOP/s")
    print(f"greedy continuations identical: {same}")
    print("| measure | osp | transformers | osp / transformers | osp MFU | transformers MFU |")
    print("|---|---|---|---|---|---|")
    for name, o, h, mo, mh in rows:
        ratio = (h / o) if "(s)" in name else (o / h)
        mfu = f"{100 * mo:.1f}% | {100 * mh:.1f}%" if mo is not None else "- | -"
        print(f"| {name} | {o:.2f} | {h:.2f} | {ratio:.2f}x | {mfu} |")


if __name__ == "__main__":
    main()
