"""`osp eval` on the command line: a small model file written here (osp model format: safetensors
with "osp.model_config" metadata), a text file and a tokenizer-less / malformed setup. Bad
inputs must be refused with a one-line message naming the file; good ones must print results.
Needs $OSP_BUILD_DIR/osp; skipped with OSP_REF_ALLOW_MISSING=1 when it is not built.
"""
import json
import os
import subprocess

import pytest

import dump_harness
import torch
from safetensors.torch import save_file

import llama_ref as ref

CONFIG = dict(layers=1, hidden=32, heads=4, kv_heads=2, ffn=80, vocab=64, context=32)


def osp():
    return str(dump_harness.require("osp"))


def run(*args):
    return subprocess.run([osp(), "eval", *args], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "2"})


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("evalcli")
    gen = torch.Generator().manual_seed(0)
    tensors = {k: (torch.ones(s) if "norm" in k else 0.2 * torch.randn(s, generator=gen)).contiguous()
               for k, s in ref.param_shapes(CONFIG).items()}
    path = d / "model.safetensors"
    save_file(tensors, str(path), metadata={"osp.model_config": json.dumps(CONFIG)})
    return d, path


def test_missing_model_and_bad_data(model):
    d, path = model
    r = run("ppl", str(d / "missing.safetensors"), "--data", str(d))
    assert r.returncode != 0 and "missing.safetensors" in r.stderr and r.stderr.count("\n") == 1
    r = run("ppl", str(path), "--data", str(d / "nothing.txt"))
    assert r.returncode != 0 and "nothing.txt" in r.stderr
    r = run("kurtosis", str(path), "--data", str(d))  # a folder without manifest.json
    assert r.returncode != 0 and "manifest.json" in r.stderr
    text = d / "eval.txt"
    text.write_text("hello world\n" * 50)
    r = run("ppl", str(path), "--data", str(text))  # text needs a tokenizer
    assert r.returncode != 0 and "--tokenizer" in r.stderr
    r = run("quant", str(path), "--data", str(text), "--rotate", "sideways")
    assert r.returncode != 0 and "sideways" in r.stderr
    r = run("quant", str(path), "--data", str(text), "--w", "1", "--tokenizer", str(d / "no.json"))
    assert r.returncode != 0 and "no.json" in r.stderr


@pytest.fixture(scope="module")
def shards(model, tmp_path_factory):
    """A prepared shards folder (train + val) with a 64-token tokenizer-sized vocabulary, and a
    model file whose vocabulary matches it."""
    d = tmp_path_factory.mktemp("evalshards")
    gen = torch.Generator().manual_seed(1)
    words = "the of and to in a is that for it as was with be by on not he this are".split()
    lines = [" ".join(words[int(i)] for i in torch.randint(len(words), (12,), generator=gen))
             for _ in range(600)]
    (d / "text.txt").write_text("\n".join(lines))
    r = subprocess.run([osp(), "data", "prepare", "--input", str(d / "text.txt"), "--vocab", "300",
                        "--out", str(d / "sh"), "--text-documents", "line", "--val-fraction", "0.3",
                        "--quiet", "--threads", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    vocab = json.loads((d / "sh" / "manifest.json").read_text())["vocab_size"]
    config = dict(CONFIG, vocab=vocab)
    tensors = {k: (torch.ones(s) if "norm" in k else 0.2 * torch.randn(s, generator=gen)).contiguous()
               for k, s in ref.param_shapes(config).items()}
    save_file(tensors, str(d / "model.safetensors"), metadata={"osp.model_config": json.dumps(config)})
    return d / "sh", d / "model.safetensors"


def test_commands_on_shards(shards):
    data, path = shards
    r = run("ppl", str(path), "--data", str(data), "--json")
    assert r.returncode == 0, r.stderr
    fp = json.loads(r.stdout)
    assert fp["window"] == 32 and fp["scored"] == fp["windows"] * 31 and fp["ppl"] > 1
    assert "capped" in r.stderr  # 2048 → the model's context 32
    r = run("kurtosis", str(path), "--data", str(data), "--rows", "4", "--width", "16", "--json")
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)
    assert len(k["states"]) == CONFIG["layers"] + 1 and k["average"] >= 0
    r = run("quant", str(path), "--data", str(data), "--w", "16", "--a", "16", "--kv", "16",
            "--rotate", "full", "--no-center-embed", "--json")
    assert r.returncode == 0, r.stderr
    assert abs(json.loads(r.stdout)["ppl"] - fp["ppl"]) <= 1e-4 * fp["ppl"]  # rotation invariance
    r = run("quant", str(path), "--data", str(data), "--weights", "gptq", "--calib-windows", "8", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ppl"] != fp["ppl"]
    r = run("table", str(path), "--data", str(data), "--calib-windows", "8")
    assert r.returncode == 0, r.stderr
    for row in ("FP", "RTN", "+ FFN Had", "+ GPTQ", "+ QuaRot"):
        assert row in r.stdout
    assert "n/a" not in r.stdout
    # The W/A/KV split rows equal `eval quant` with the other two at 16 bits (RTN, no rotation).
    r = run("table", str(path), "--data", str(data), "--calib-windows", "8", "--json")
    assert r.returncode == 0, r.stderr
    rows = {e["row"]: e["ppl"] for e in json.loads(r.stdout)}
    assert {"W4A16KV16", "W16A4KV16", "W16A16KV4"} <= rows.keys()
    for name, bits in (("W4A16KV16", ("4", "16", "16")), ("W16A4KV16", ("16", "4", "16")),
                       ("W16A16KV4", ("16", "16", "4"))):
        q = run("quant", str(path), "--data", str(data), "--w", bits[0], "--a", bits[1], "--kv", bits[2], "--json")
        assert q.returncode == 0, q.stderr
        assert json.loads(q.stdout)["ppl"] == rows[name], name
        assert rows[name] != rows["FP (16-16-16)"], name
    r = run("kurtosis", str(path), "--data", str(data), "--rows", "1000", "--width", "32")
    assert r.returncode != 0 and "32000 tokens" in r.stderr


def test_outliers_against_the_reference(shards, tmp_path):
    """`osp eval outliers`: every site of every layer with finite statistics, and each site's
    one-site-at-a-time 4-bit perplexity and statistics equal quant_ref's float64 forward with only
    that site (or only that weight, RTN) quantized."""
    import math
    import quant_ref as qr
    from safetensors.torch import load_file
    data, path = shards
    text, tok = data.parent / "text.txt", data / "tokenizer.json"
    window, windows = 32, 6
    r = run("outliers", str(path), "--data", str(text), "--tokenizer", str(tok), "--window", str(window),
            "--windows", str(windows), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    p = subprocess.run([osp(), "tokenize", "--tokenizer", str(tok), "--input", str(text), "--json",
                        "--no-special-tokens"], capture_output=True, text=True)
    tokens = json.loads(p.stdout)[: window * windows]
    cfg = json.loads(json.dumps(CONFIG))
    cfg["vocab"] = json.loads((data / "manifest.json").read_text())["vocab_size"]
    c = ref.resolve_config(cfg)
    folded = {k: v.double() for k, v in qr.fold(load_file(str(path)), c).items()}
    qk_M = qr.hadamard_dense(c["head_dim"])
    fp = qr.perplexity(folded, c, tokens, window)
    assert abs(out["fp_ppl"] - fp) <= 1e-5 * fp
    sites = {}
    ids = torch.as_tensor(tokens).view(windows, window)
    qr.forward(folded, c, ids, sites=sites)
    tok_sites = {}
    qr.forward(folded, c, ids.reshape(-1, 1), sites=tok_sites)
    by_name = {e["name"]: e for e in out["sites"]}
    assert len(by_name) == c["layers"] * 13 == len(out["sites"])
    rel = []
    for l in range(c["layers"]):
        for s in qr.SITES:
            e = by_name[f"model.layers.{l}.{'self_attn' if s in ('q_proj.input', 'o_proj.input', 'k', 'v') else 'mlp'}.{s}"]
            for key in ("kurtosis_token", "kurtosis_sequence", "max_over_rms", "a4_ppl"):
                assert math.isfinite(e[key]), (e["name"], key)
            k_seq = qr.kurtosis(sites[(l, s)]).clamp(min=0).mean().item()
            k_tok = qr.kurtosis(tok_sites[(l, s)]).clamp(min=0).mean().item()
            assert abs(e["kurtosis_sequence"] - k_seq) <= 1e-4 * max(1, k_seq), e["name"]
            assert abs(e["kurtosis_token"] - k_tok) <= 1e-4 * max(1, k_tok), e["name"]
            x = sites[(l, s)].abs()
            ratio = (x / x.pow(2).mean(-1, keepdim=True).sqrt()).max().item()
            assert abs(e["max_over_rms"] - ratio) <= 1e-4 * ratio, e["name"]
            want = qr.perplexity(folded, c, tokens, window, a_bits=4 if s not in ("k", "v") else 16,
                                 kv_bits=4 if s in ("k", "v") else 16, qk_M=qk_M, only=(l, s))
            rel.append(abs(e["a4_ppl"] - want) / want)
        for wname in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                      "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"):
            name = f"model.layers.{l}.{wname}.weight"
            e = by_name[name]
            p4 = dict(folded)
            p4[name] = qr.quantize_weight(folded[name].float(), 4).double()
            want = qr.perplexity(p4, c, tokens, window)
            rel.append(abs(e["w4_ppl"] - want) / want)
            assert math.isfinite(e["kurtosis"]) and e["max_row"] >= 0, name
    # fp32 against float64: a 4-bit rounding decision may flip at a tie, so a few sites may move
    # more; the typical site agrees to fp32 rounding.
    rel.sort()
    assert rel[len(rel) // 2] < 1e-4 and rel[-1] < 2e-2, rel[-5:]
