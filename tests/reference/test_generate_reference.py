"""`osp generate` against transformers: greedy generation of 32 tokens equals
`LlamaForCausalLM.generate(do_sample=False)` on the same random model — a transformers-made GQA
Llama read from its Hugging Face folder, and an osp OSP model (SSNorm + EmbProj) that transformers
reads from `osp export hf`. The streamed text is the tokenizers library's decode of the ids (with a
tokenizer whose vocabulary splits multi-byte UTF-8 characters across tokens), prompts beyond the
context are refused, and the W4A4KV4 path runs. Fresh random weights, text and tokenizer every
run; the seed is in every failure message."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import dump_harness
import llama_ref as ref

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

SEED = int(os.environ.get("OSP_TEST_SEED") or int.from_bytes(os.urandom(4), "little"))  # OSP_TEST_SEED replays
PROMPT = "Grüße aus Köln, 東京 und São Paulo 🙂"
WORDS = ["grüße", "köln", "東京", "são", "paulo", "🙂", "straße", "naïve", "日本語", "and", "the", "über"]


def osp(*args, ok=True):
    p = subprocess.run([str(dump_harness.require("osp")), "generate", *map(str, args)], capture_output=True,
                       env={**os.environ, "OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "passive"})
    assert (p.returncode == 0) == ok, f"seed {SEED}: rc={p.returncode}\n{p.stderr.decode()}"
    return p


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory):
    """A byte-level BPE whose 300 ids leave most multi-byte characters split across tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    rng = np.random.default_rng(SEED)
    text = [" ".join(rng.choice(WORDS, size=400)) for _ in range(4)]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(text, trainer=trainer)
    path = tmp_path_factory.mktemp("gentok") / "tokenizer.json"
    tok.save(str(path))
    return path


def hf_model_folder(tmp_path, tokenizer_file):
    """A transformers-made Llama (GQA, tied, another RoPE base), gains off 1, weights large
    enough that the next-token distribution is far from uniform."""
    torch.manual_seed(SEED)
    cfg = transformers.LlamaConfig(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=96,
                                   rms_norm_eps=1e-6, rope_theta=20000.0, tie_word_embeddings=True,
                                   initializer_range=0.15, eos_token_id=0, bos_token_id=None)
    model = transformers.LlamaForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n:
                p.uniform_(0.5, 1.5)
    folder = tmp_path / "hf"
    model.save_pretrained(str(folder), safe_serialization=True)
    shutil.copy(tokenizer_file, folder / "tokenizer.json")
    return folder


def osp_model_file(tmp_path):
    """An osp OSP model file: SSNorm gains, R1/R2, untied head."""
    config = dict(layers=2, hidden=64, heads=4, vocab=320, ffn=128, context=96, norm="ssnorm", emb_proj=True)
    gen = torch.Generator().manual_seed(SEED)
    tensors = {}
    for k, s in ref.param_shapes(config).items():
        if "norm" in k:
            tensors[k] = 0.5 + torch.rand(s, generator=gen)
        elif "proj.weight" in k and ("embed_proj" in k or "head_proj" in k):
            tensors[k] = torch.eye(64) + 0.1 * torch.randn(s, generator=gen)
        else:
            tensors[k] = 0.15 * torch.randn(s, generator=gen)
    path = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path),
              metadata={"osp.model_config": json.dumps(config)})
    return path


def hf_greedy(folder, prompt_ids, n, eos):
    model = transformers.LlamaForCausalLM.from_pretrained(str(folder), torch_dtype=torch.float32,
                                                          attn_implementation="eager").eval()
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = 0
    with torch.no_grad():
        # synced_gpus=False: its default probes torch.distributed.fsdp, which Debian's torch 1.13
        # cannot import on Python 3.11.
        out = model.generate(torch.tensor([prompt_ids]), do_sample=False, max_new_tokens=n, min_new_tokens=0,
                             output_scores=True, return_dict_in_generate=True, synced_gpus=False)
    ids = out.sequences[0, len(prompt_ids):].tolist()
    return ids, [s[0].numpy() for s in out.scores]


def compare_greedy(ours, theirs, scores, eos):
    """Equal ids; a divergence is accepted only at a near-tie of transformers' own logits."""
    if eos is not None and eos in theirs:
        theirs = theirs[:theirs.index(eos)]  # osp stops before EOS, transformers keeps it
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if a != b:
            gap = abs(scores[i][b] - scores[i][a])
            assert gap <= 1e-4 * np.abs(scores[i]).max(), f"seed {SEED}: step {i}: {a} vs {b} (gap {gap})"
            return
    assert len(ours) == len(theirs), f"seed {SEED}: {len(ours)} vs {len(theirs)} tokens"


def test_greedy_equals_transformers_on_a_transformers_model(tmp_path, tokenizer_file):
    folder = hf_model_folder(tmp_path, tokenizer_file)
    # EOS from config.json (id 0, <|endoftext|>), as both sides read it.
    r = json.loads(osp(folder, "--prompt", PROMPT, "--max-tokens", 32, "--temperature", 0, "--json").stdout)
    expected = tokenizers.Tokenizer.from_file(str(tokenizer_file)).encode(PROMPT).ids
    assert r["prompt_ids"] == expected, f"seed {SEED}"
    theirs, scores = hf_greedy(folder, r["prompt_ids"], 32, eos=0)
    compare_greedy(r["ids"], theirs, scores, eos=0)
    assert r["stopped_at_eos"] == (0 in theirs[:len(r["ids"]) + 1]), f"seed {SEED}"


def test_greedy_equals_transformers_on_an_exported_osp_model(tmp_path, tokenizer_file):
    model = osp_model_file(tmp_path)
    out = tmp_path / "hf"
    p = subprocess.run([str(dump_harness.require("osp")), "export", "hf", str(model), str(out), "--dtype", "f32"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    r = json.loads(osp(model, "--prompt", PROMPT, "--max-tokens", 32, "--temperature", 0, "--ignore-eos",
                       "--tokenizer", tokenizer_file, "--json").stdout)
    assert len(r["ids"]) == 32 and not r["stopped_at_eos"]
    theirs, scores = hf_greedy(out, r["prompt_ids"], 32, eos=None)
    compare_greedy(r["ids"], theirs, scores, eos=None)
    # top-k 1 at any temperature is greedy.
    k1 = json.loads(osp(model, "--prompt", PROMPT, "--max-tokens", 32, "--temperature", 2, "--top-k", 1,
                        "--ignore-eos", "--tokenizer", tokenizer_file, "--json").stdout)
    assert k1["ids"] == r["ids"], f"seed {SEED}"


def test_streamed_text_is_the_decode_of_the_ids(tmp_path, tokenizer_file):
    model = osp_model_file(tmp_path)
    common = ["--prompt", PROMPT, "--max-tokens", 48, "--temperature", 1.0, "--seed", SEED % 1000,
              "--ignore-eos", "--tokenizer", tokenizer_file]
    streamed = osp(model, *common)
    r = json.loads(osp(model, *common, "--json").stdout)
    again = json.loads(osp(model, *common, "--json").stdout)
    assert again["ids"] == r["ids"], f"seed {SEED}: the same --seed drew other tokens"
    tok = tokenizers.Tokenizer.from_file(str(tokenizer_file))
    text = tok.decode(r["ids"], skip_special_tokens=False)
    assert r["text"] == text, f"seed {SEED}"
    assert streamed.stdout.decode("utf-8") == PROMPT + text + "\n", f"seed {SEED}"
    # Some token of this vocabulary holds part of a character, so the stream had to hold text back.
    pieces = [tok.decode([i]) for i in r["prompt_ids"] + r["ids"]]
    assert any("\ufffd" in p for p in pieces), f"seed {SEED}: no split character was exercised"
    assert "prefill:" in streamed.stderr.decode() and "tok/s" in streamed.stderr.decode()


def test_context_is_enforced_and_quantized_generation_runs(tmp_path, tokenizer_file):
    model = osp_model_file(tmp_path)  # context 96
    base = ["--prompt", PROMPT, "--tokenizer", tokenizer_file, "--temperature", 0, "--ignore-eos"]
    p = osp(model, *base, "--max-tokens", 200, ok=False)
    err = p.stderr.decode()
    assert "context of 96" in err and "--max-tokens" in err and err.count("\n") == 1, err
    plain = json.loads(osp(model, *base, "--max-tokens", 16, "--json").stdout)
    off = json.loads(osp(model, *base, "--max-tokens", 16, "--json", "--w", 16, "--a", 16, "--kv", 16).stdout)
    assert off["ids"] == plain["ids"], f"seed {SEED}"
    q = osp(model, *base, "--max-tokens", 16, "--json", "--w", 4, "--a", 4, "--kv", 4, "--rotate", "ffn")
    assert len(json.loads(q.stdout)["ids"]) == 16 and "W4A4KV4" in q.stderr.decode()
