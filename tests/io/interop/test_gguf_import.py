"""GGUF import (formats.md §3): every model command reads a llama GGUF. osp exports fresh random
models (tied and untied, GQA) at every type; importing them back gives the HF export's tensors bit
for bit at F32 and the `gguf` package's dequantization (RoPE permutation undone here
independently) at the other types; `osp eval logits` on the GGUF equals transformers on the HF
export. Tokenizers come from the tokenizer.ggml.* keys: llama.cpp's own vocab files tokenize
their test texts to the ids llama.cpp lists. Bad files are refused by key and by kind."""
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import SEED, make_model, max_rel, run

gguf = pytest.importorskip("gguf")
from gguf.quants import dequantize  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[3] / ".fixtures" / "llama.cpp-vocab"
BASE = {"layers": 2, "hidden": 64, "heads": 4, "vocab": 320, "context": 64, "ffn": 96,
        "norm_eps": 1e-5, "rope_theta": 10000.0}
CONFIGS = {"untied-gqa": {**BASE, "kv_heads": 2, "tie": False, "norm": "ssnorm", "emb_proj": True},
           "tied": {**BASE, "kv_heads": 4, "tie": True}}


def unpermute(w, heads):
    """Inverse of §3.10: old row j·(Dh/2) + i = GGUF row 2i + j, per head."""
    rows, cols = w.shape
    dh = rows // heads
    return w.reshape(heads, dh // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def models(request, tmp_path_factory, osp_bin, tool, tokenizer_file):
    name = request.param
    d = tmp_path_factory.mktemp(f"import-{name}")
    model = make_model(tool, d, CONFIGS[name], SEED)
    run(osp_bin, "export", "hf", model, d / "hf", "--dtype", "f32", "--tokenizer", tokenizer_file)
    files = {}
    for t in ["f32", "f16", "q8_0", "q4_0"]:
        files[t] = d / f"m-{t}.gguf"
        run(osp_bin, "export", "gguf", model, files[t], "--type", t, "--tokenizer", tokenizer_file)
    return name, d, files


def imported(osp_bin, gguf_file, out):
    run(osp_bin, "import", "gguf", gguf_file, out)
    return load_file(str(out))


def test_f32_import_equals_the_hf_export(models, osp_bin):
    name, d, files = models
    hf = load_file(str(d / "hf" / "model.safetensors"))
    ours = imported(osp_bin, files["f32"], d / "back-f32.safetensors")
    assert sorted(ours) == sorted(hf), name
    for k in hf:
        np.testing.assert_array_equal(ours[k], hf[k], err_msg=k)


@pytest.mark.parametrize("kind", ["f16", "q8_0", "q4_0"])
def test_quantized_import_equals_the_gguf_dequantizer(models, osp_bin, kind):
    name, d, files = models
    cfg = json.loads((d / "hf" / "config.json").read_text())
    ours = imported(osp_bin, files[kind], d / f"back-{kind}.safetensors")
    r = gguf.GGUFReader(str(files[kind]))
    by_name = {t.name: t for t in r.tensors}
    from test_gguf_interop import gguf_name
    for k, v in ours.items():
        t = by_name[gguf_name(k) if k != "lm_head.weight" else "output.weight"]
        ref = dequantize(t.data, t.tensor_type).reshape(v.shape).astype(np.float32)
        if ".q_proj." in k:
            ref = unpermute(ref, cfg["num_attention_heads"])
        if ".k_proj." in k:
            ref = unpermute(ref, cfg["num_key_value_heads"])
        np.testing.assert_array_equal(v, ref, err_msg=f"{name} {kind} {k}")


def test_logits_of_the_gguf_equal_transformers(models, osp_bin, tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    name, d, files = models
    rng = np.random.default_rng(SEED)
    tokens = rng.integers(0, 320, size=40)
    ids = tmp_path / "ids.txt"
    ids.write_text(" ".join(map(str, tokens)))
    run(osp_bin, "eval", "logits", files["f32"], "--tokens", ids, "--out", tmp_path / "l.safetensors")
    ours = load_file(str(tmp_path / "l.safetensors"))
    np.testing.assert_array_equal(ours["tokens"], tokens)
    hf = transformers.LlamaForCausalLM.from_pretrained(d / "hf", torch_dtype=torch.float64)
    with torch.no_grad():
        ref = hf(torch.tensor(tokens[None])).logits[0].numpy()
    assert max_rel(ours["logits"], ref) < 1e-5, name


def test_every_model_command_reads_the_gguf(models, osp_bin, tmp_path, tokenizer_file):
    name, d, files = models
    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog " * 40)
    p = run(osp_bin, "eval", "ppl", files["q8_0"], "--data", text, "--window", "64", "--json")
    assert np.isfinite(json.loads(p.stdout)["ppl"])
    info = json.loads(run(osp_bin, "info", files["q4_0"], "--json").stdout)
    assert info["config"]["layers"] == 2 and info["config"]["tie"] == CONFIGS[name]["tie"]
    run(osp_bin, "export", "hf", files["q8_0"], tmp_path / "hf", "--dtype", "f32", "--tokenizer", tokenizer_file)
    assert (tmp_path / "hf" / "model.safetensors").exists()
    # The tokenizer embedded in the GGUF gives the ids of the tokenizer.json it came from.
    a = run(osp_bin, "tokenize", "--model", files["f32"], "--input", text).stdout
    b = run(osp_bin, "tokenize", "--tokenizer", tokenizer_file, "--input", text).stdout
    assert a == b


def read_vocab_tests(stem):
    inp = (FIXTURES / f"{stem}.gguf.inp").read_text(encoding="utf-8")
    out = (FIXTURES / f"{stem}.gguf.out").read_text(encoding="utf-8")
    texts = inp.split("\n__ggml_vocab_test__\n")  # each text is followed by the separator
    assert texts[-1] == "", "the file ends with a separator"
    texts.pop()
    ids = [[int(x) for x in line.split()] for line in out.rstrip("\n").split("\n")]
    return texts, ids


@pytest.mark.parametrize("stem", ["ggml-vocab-gpt-2", "ggml-vocab-llama-bpe", "ggml-vocab-qwen2",
                                  "ggml-vocab-llama-spm", "ggml-vocab-phi-3"])
def test_llama_cpp_vocab_files_tokenize_as_llama_cpp_lists(stem, osp_bin, tmp_path):
    if not (FIXTURES / f"{stem}.gguf").exists():
        pytest.skip(f"{FIXTURES} lacks {stem}.gguf: run scripts/fetch-fixtures")
    texts, want = read_vocab_tests(stem)
    assert len(texts) == len(want), stem
    lines = tmp_path / "in.jsonl"
    lines.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    p = run(osp_bin, "tokenize", "--tokenizer", FIXTURES / f"{stem}.gguf", "--input", lines, "--jsonl",
            "--no-special-tokens")
    got = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(got) == len(texts)
    bad = [(t, g, w) for t, g, w in zip(texts, got, want) if g != w]
    assert not bad, f"{stem}: {len(bad)} of {len(got)} texts differ, first: {bad[0]!r}"


def test_bad_files_are_refused_by_key_and_kind(osp_bin, tmp_path, tokenizer_file, models):
    _, d, files = models
    p = run(osp_bin, "eval", "logits", tokenizer_file, "--tokens", tokenizer_file, "--out", tmp_path / "x", ok=False)
    assert "is JSON text, not a model" in p.stderr
    src = gguf.GGUFReader(str(files["f32"]))

    def rewrite(path, arch="llama", extra=None, drop=()):
        w = gguf.GGUFWriter(str(path), arch)
        for key, f in src.fields.items():
            if key.startswith("GGUF.") or key == "general.architecture" or key in drop:
                continue
            kind = f.types[0]
            if kind == gguf.GGUFValueType.ARRAY:
                w.add_array(key, f.contents())
            else:
                w.add_key_value(key, f.contents(), kind)
        for k, (v, t) in (extra or {}).items():
            w.add_key_value(k, v, t)
        for t in src.tensors:
            w.add_tensor(t.name, np.asarray(t.data), raw_shape=None, raw_dtype=t.tensor_type)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()

    rewrite(tmp_path / "rope.gguf", extra={"llama.rope.scaling.type": ("linear", gguf.GGUFValueType.STRING),
                                           "llama.rope.scaling.factor": (4.0, gguf.GGUFValueType.FLOAT32)})
    p = run(osp_bin, "import", "gguf", tmp_path / "rope.gguf", tmp_path / "o.safetensors", ok=False)
    assert "llama.rope.scaling" in p.stderr and "not supported" in p.stderr
    rewrite(tmp_path / "pre.gguf", drop=("tokenizer.ggml.pre",))
    p = run(osp_bin, "tokenize", "--tokenizer", tmp_path / "pre.gguf", "--input", tokenizer_file, ok=False)
    assert "tokenizer.ggml.pre" in p.stderr
