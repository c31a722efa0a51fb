"""osp's GGUF export against the `gguf` Python package (llama.cpp's own reader; formats.md §3):
it reads every file osp writes; metadata matches the model and the tokenizer; tensor data
matches ours: F32 bit for bit against the HF export with the Q/K permutation of §3.10 applied
here independently, Q8_0/Q4_0 bytes equal the package's reference quantizers, and its
dequantization equals osp's. Fresh random weights and tokenizer every run."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import SEED, make_model, run

gguf = pytest.importorskip("gguf")

CONFIG = {"layers": 2, "hidden": 64, "heads": 4, "kv_heads": 2, "vocab": 320, "context": 64,
          "ffn": 96, "norm": "ssnorm", "emb_proj": True, "tie": False, "norm_eps": 1e-5,
          "rope_theta": 10000.0}
HF_NAMES = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
            "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
            "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
            "mlp.down_proj": "ffn_down"}
Q = gguf.GGMLQuantizationType


def gguf_name(hf):
    if hf == "model.embed_tokens.weight":
        return "token_embd.weight"
    if hf == "model.norm.weight":
        return "output_norm.weight"
    if hf == "lm_head.weight":
        return "output.weight"
    parts = hf.split(".")
    return f"blk.{parts[2]}.{HF_NAMES['.'.join(parts[3:-1])]}.weight"


def permute(w, heads):
    """formats.md §3.10: within each head, new row 2i + j = old row j·(Dh/2) + i."""
    rows, cols = w.shape
    dh = rows // heads
    return w.reshape(heads, 2, dh // 2, cols).swapaxes(1, 2).reshape(rows, cols)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, osp_bin, tool, tokenizer_file):
    d = tmp_path_factory.mktemp("gguf")
    model = make_model(tool, d, CONFIG, SEED)
    run(osp_bin, "export", "hf", model, d / "hf", "--dtype", "f32", "--tokenizer", tokenizer_file)
    files = {}
    for t in ["f32", "f16", "bf16", "q8_0", "q4_0"]:
        files[t] = d / f"m-{t}.gguf"
        run(osp_bin, "export", "gguf", model, files[t], "--type", t, "--tokenizer", tokenizer_file)
    return d, files, load_file(str(d / "hf" / "model.safetensors"))


def field(reader, key):
    return reader.fields[key].contents()


@pytest.mark.parametrize("kind", ["f32", "f16", "bf16", "q8_0", "q4_0"])
def test_metadata_matches(exported, tokenizer_file, kind):
    d, files, hf = exported
    r = gguf.GGUFReader(str(files[kind]))
    cfg = json.loads((d / "hf" / "config.json").read_text())
    assert next(iter(r.fields.keys())) == "GGUF.version" and field(r, "general.architecture") == "llama"
    expect = {"llama.context_length": cfg["max_position_embeddings"], "llama.embedding_length": cfg["hidden_size"],
              "llama.block_count": cfg["num_hidden_layers"], "llama.feed_forward_length": cfg["intermediate_size"],
              "llama.attention.head_count": cfg["num_attention_heads"],
              "llama.attention.head_count_kv": cfg["num_key_value_heads"],
              "llama.rope.dimension_count": cfg["head_dim"], "llama.vocab_size": cfg["vocab_size"],
              "general.file_type": {"f32": 0, "f16": 1, "bf16": 32, "q8_0": 7, "q4_0": 2}[kind]}
    for k, v in expect.items():
        assert field(r, k) == v, k
    assert np.isclose(field(r, "llama.attention.layer_norm_rms_epsilon"), cfg["rms_norm_eps"], rtol=1e-6)
    assert field(r, "llama.rope.freq_base") == cfg["rope_theta"]
    assert ("general.quantization_version" in r.fields) == kind.startswith("q")
    tok = json.loads(tokenizer_file.read_text())
    vocab = {i: s for s, i in tok["model"]["vocab"].items()}
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    assert len(tokens) == cfg["vocab_size"] == len(types)
    for i, s in vocab.items():
        assert tokens[i] == s
    eos = [a["id"] for a in tok["added_tokens"] if a["content"] == "<|endoftext|>"][0]
    assert types[eos] == 3 and all(types[i] == 5 for i in range(len(vocab), cfg["vocab_size"]))
    assert tokens[len(vocab)] == f"[PAD{len(vocab)}]"
    assert field(r, "tokenizer.ggml.merges") == [" ".join(m) if isinstance(m, list) else m for m in tok["model"]["merges"]]
    assert field(r, "tokenizer.ggml.model") == "gpt2" and field(r, "tokenizer.ggml.pre") == "gpt-2"
    assert field(r, "tokenizer.ggml.eos_token_id") == eos and field(r, "tokenizer.ggml.bos_token_id") == eos
    assert not field(r, "tokenizer.ggml.add_bos_token") and not field(r, "tokenizer.ggml.add_eos_token")


def test_f32_tensors_equal_the_hf_export_permuted(exported):
    _, files, hf = exported
    r = gguf.GGUFReader(str(files["f32"]))
    tensors = {t.name: t for t in r.tensors}
    assert [t.name for t in r.tensors][0] == "token_embd.weight" and len(tensors) == len(hf)
    for name, w in hf.items():
        t = tensors[gguf_name(name)]
        assert list(t.shape) == list(reversed(w.shape)), name  # ggml dims are reversed (§3.3)
        expect = w
        if "q_proj" in name:
            expect = permute(w, CONFIG["heads"])
        elif "k_proj" in name:
            expect = permute(w, CONFIG["kv_heads"])
        assert np.array_equal(np.asarray(t.data).reshape(w.shape), expect), name


@pytest.mark.parametrize("kind,weights,head", [("q8_0", Q.Q8_0, Q.Q8_0), ("q4_0", Q.Q4_0, Q.Q8_0),
                                               ("f16", Q.F16, Q.F16), ("bf16", Q.BF16, Q.BF16)])
def test_encoded_tensors_match_the_reference_and_decode_like_ours(exported, tool, kind, weights, head):
    d, files, hf = exported
    r = gguf.GGUFReader(str(files[kind]))
    f32 = {t.name: np.asarray(t.data) for t in gguf.GGUFReader(str(files["f32"])).tensors}
    ours_path = d / f"ours-{kind}.safetensors"
    run(tool, "gguf-dump", files[kind], ours_path)
    ours = load_file(str(ours_path))
    for t in r.tensors:
        expect_type = Q.F32 if len(t.shape) == 1 else (head if t.name == "output.weight" else weights)
        assert t.tensor_type == expect_type, t.name
        raw = np.asarray(t.data)
        theirs = gguf.quants.dequantize(raw, t.tensor_type).reshape(ours[t.name].shape)
        assert np.array_equal(theirs, ours[t.name]), t.name
        if t.tensor_type in (Q.Q8_0, Q.Q4_0):
            # llama.cpp's reference encoder (as ported in gguf-py) gives the same bytes (§3.11).
            ref = gguf.quants.quantize(f32[t.name].reshape(ours[t.name].shape), t.tensor_type)
            assert np.array_equal(ref.reshape(-1).view(np.uint8), raw.reshape(-1).view(np.uint8)), t.name


def test_info_reports_every_format(exported, osp_bin):
    d, files, hf = exported
    n = sum(int(np.prod(w.shape)) for w in hf.values())
    for target in [files["q4_0"], d / "hf", d / "hf" / "model.safetensors", d / "model.safetensors"]:
        out = run(osp_bin, "info", target).stdout
        assert "model.safetensors" in str(target) or f"parameters: {n}" in out, out
    gguf_out = run(osp_bin, "info", files["q4_0"]).stdout
    assert "general.architecture = \"llama\"" in gguf_out and "Q4_0" in gguf_out and "[320 × string]" in gguf_out
    osp_out = run(osp_bin, "info", d / "model.safetensors").stdout
    assert "model.embed_proj.weight" in osp_out and "osp.model_config" in osp_out
    p = run(osp_bin, "info", d / "nothing", ok=False)
    assert "no such file" in p.stderr
