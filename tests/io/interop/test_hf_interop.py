"""osp's Hugging Face export and import against transformers (formats.md §2, osp-method.md §3):
transformers loads our exports of an OSP model (SSNorm + EmbProj, untied) and of a tied GQA model
and reproduces our logits; transformers' own checkpoints import into osp with its logits; export
→ import round trips are exact; the tokenizer survives the trip. Fresh random weights, tokens and
tokenizer every run; the seed is in every failure message."""
import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.numpy import load_file

from conftest import SEED, make_model, max_rel, osp_logits, run

transformers = pytest.importorskip("transformers")

OSP_MODEL = {"layers": 2, "hidden": 64, "heads": 4, "vocab": 320, "context": 64, "norm": "ssnorm",
             "emb_proj": True, "tie": False, "norm_eps": 1e-5, "rope_theta": 10000.0}
TIED_GQA = {"layers": 2, "hidden": 64, "heads": 4, "kv_heads": 2, "vocab": 320, "context": 64,
            "ffn": 96, "tie": True, "norm_eps": 1e-6, "rope_theta": 500000.0}


def hf_logits(folder, tokens, dtype=torch.float32):
    model = transformers.LlamaForCausalLM.from_pretrained(str(folder), torch_dtype=dtype,
                                                          attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        out = model(torch.tensor([tokens], dtype=torch.long)).logits[0]
    return model, out.float().numpy()


def tokens_for(vocab, n=32):
    return [int(t) for t in np.random.default_rng(SEED + 1).integers(0, vocab, size=n)]


@pytest.mark.parametrize("config", [OSP_MODEL, TIED_GQA], ids=["osp_untied", "tied_gqa"])
def test_transformers_reproduces_our_logits(tmp_path, osp_bin, tool, tokenizer_file, config):
    model = make_model(tool, tmp_path, config, SEED)
    out = tmp_path / "hf"
    run(osp_bin, "export", "hf", model, out, "--dtype", "f32", "--tokenizer", tokenizer_file)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"] and cfg["torch_dtype"] == cfg["dtype"] == "float32"
    assert cfg["tie_word_embeddings"] == (config["tie"] and not config.get("emb_proj", False))
    assert cfg["rms_norm_eps"] == config["norm_eps"] and cfg["rope_theta"] == config["rope_theta"]
    names = load_file(str(out / "model.safetensors")).keys()
    assert ("lm_head.weight" in names) != cfg["tie_word_embeddings"]
    assert not any("embed_proj" in n or "head_proj" in n for n in names)
    tokens = tokens_for(config["vocab"])
    hf_model, theirs = hf_logits(out, tokens)
    if cfg["tie_word_embeddings"]:
        assert hf_model.lm_head.weight.data_ptr() == hf_model.model.embed_tokens.weight.data_ptr()
    ours = osp_logits(tool, model, tokens, tmp_path)
    assert max_rel(theirs, ours) <= 1e-4, f"seed {SEED}: {max_rel(theirs, ours)}"


def test_round_trip_gives_identical_logits(tmp_path, osp_bin, tool):
    model = make_model(tool, tmp_path, OSP_MODEL, SEED)
    out, out2 = tmp_path / "hf", tmp_path / "hf2"
    run(osp_bin, "export", "hf", model, out, "--dtype", "f32")
    run(osp_bin, "import", "hf", out, tmp_path / "imported.safetensors")
    run(osp_bin, "export", "hf", tmp_path / "imported.safetensors", out2, "--dtype", "f32")
    tokens = tokens_for(OSP_MODEL["vocab"])
    a = osp_logits(tool, out, tokens, tmp_path)          # the HF folder, read by load_model
    b = osp_logits(tool, tmp_path / "imported.safetensors", tokens, tmp_path)
    c = osp_logits(tool, out2, tokens, tmp_path)
    assert np.array_equal(a, b) and np.array_equal(a, c), f"seed {SEED}"
    assert max_rel(a, osp_logits(tool, model, tokens, tmp_path)) <= 1e-5, f"seed {SEED}"
    t1, t2 = load_file(str(out / "model.safetensors")), load_file(str(out2 / "model.safetensors"))
    assert t1.keys() == t2.keys() and all(np.array_equal(t1[k], t2[k]) for k in t1)


def test_bf16_sharded_export(tmp_path, osp_bin, tool):
    model = make_model(tool, tmp_path, TIED_GQA, SEED)
    out = tmp_path / "hf"
    run(osp_bin, "export", "hf", model, out, "--dtype", "bf16", "--shard-bytes", "20000")
    index = json.loads((out / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert len(shards) > 1 and all((out / s).exists() for s in shards)
    assert shards[0] == f"model-00001-of-{len(shards):05d}.safetensors"
    total = 0
    for s in shards:
        with safe_open(str(out / s), framework="pt") as f:
            total += sum(f.get_tensor(k).numel() * 2 for k in f.keys())  # bf16: 2 bytes
    assert index["metadata"]["total_size"] == total
    tokens = tokens_for(TIED_GQA["vocab"])
    _, theirs = hf_logits(out, tokens)  # bf16 weights, fp32 compute
    ours = osp_logits(tool, out, tokens, tmp_path)
    assert max_rel(theirs, ours) <= 1e-4, f"seed {SEED}: {max_rel(theirs, ours)}"


def test_transformers_checkpoints_import(tmp_path, tool):
    torch.manual_seed(SEED)
    cfg = transformers.LlamaConfig(vocab_size=200, hidden_size=64, intermediate_size=96,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=20000.0,
                                   tie_word_embeddings=True)
    model = transformers.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.uniform_(0.5, 1.5)  # gains off 1, so an ignored gain shows
    for dtype in (torch.float32, torch.float16):
        folder = tmp_path / str(dtype)
        model.to(dtype).save_pretrained(str(folder), safe_serialization=True)
        tokens = tokens_for(200)
        _, theirs = hf_logits(folder, tokens)
        ours = osp_logits(tool, folder, tokens, tmp_path)
        assert max_rel(theirs, ours) <= 1e-4, f"seed {SEED} {dtype}: {max_rel(theirs, ours)}"


@pytest.mark.parametrize("change,message", [
    ({"attention_bias": True}, "attention_bias"),
    ({"rope_scaling": {"rope_type": "linear", "factor": 2.0}}, "rope_scaling"),
    ({"hidden_act": "gelu"}, "hidden_act"),
])
def test_unsupported_features_are_refused_by_name(tmp_path, osp_bin, change, message):
    cfg = transformers.LlamaConfig(vocab_size=50, hidden_size=32, intermediate_size=64,
                                   num_hidden_layers=1, num_attention_heads=2, **change)
    transformers.LlamaForCausalLM(cfg).save_pretrained(str(tmp_path / "m"), safe_serialization=True)
    p = run(osp_bin, "import", "hf", tmp_path / "m", tmp_path / "x.safetensors", ok=False)
    assert message in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_tokenizer_files_round_trip(tmp_path, osp_bin, tool, tokenizer_file):
    from tokenizers import Tokenizer
    model = make_model(tool, tmp_path, TIED_GQA, SEED)
    out = tmp_path / "hf"
    run(osp_bin, "export", "hf", model, out, "--tokenizer", tokenizer_file)
    original = Tokenizer.from_file(str(tokenizer_file))
    exported = Tokenizer.from_file(str(out / "tokenizer.json"))
    text = "Hello world 12345 — naïve text\n\twith  spaces <|endoftext|> end"
    assert exported.encode(text).ids == original.encode(text).ids
    assert exported.decode(exported.encode(text).ids, skip_special_tokens=False) == text
    # osp's own tokenizer (the data module, via `osp tokenize`) reads the exported file alike.
    (tmp_path / "text.txt").write_text(text)
    ours = json.loads(run(osp_bin, "tokenize", "--tokenizer", out / "tokenizer.json", "--input",
                          tmp_path / "text.txt", "--json").stdout)
    assert ours == original.encode(text).ids
    auto = transformers.AutoTokenizer.from_pretrained(str(out))
    assert auto.eos_token == "<|endoftext|>" and auto.model_max_length == TIED_GQA["context"]
    assert auto(text)["input_ids"] == original.encode(text).ids
    gen = json.loads((out / "generation_config.json").read_text())
    eos = original.token_to_id("<|endoftext|>")
    assert gen["eos_token_id"] == eos and gen["bos_token_id"] == eos  # no BOS: bos = eos (§2.2)
    tc = json.loads((out / "tokenizer_config.json").read_text())
    assert tc["tokenizer_class"] == "PreTrainedTokenizerFast" and tc["clean_up_tokenization_spaces"] is False
