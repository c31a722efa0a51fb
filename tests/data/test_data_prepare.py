"""`osp data prepare`, `osp data info` and the tokenize CLIs, checked from the outside: tokenizers
trained by osp load in the `tokenizers` package and encode identically, shards hold exactly the
documents (EOS after each, the validation split as documented), and broken inputs are refused
with one line naming the file."""
import json
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

import text_samples
from conftest import osp_encode_many, run_osp


def write_corpus(tmp_path, seed):
    """A .jsonl file and a .txt file (blank-line separated documents) of random text."""
    docs = text_samples.training_corpus(seed, 300)[len(text_samples.FIXED):]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("".join(json.dumps({"text": d, "id": i}) + "\n" for i, d in enumerate(docs[:200])),
                     encoding="utf-8")
    txt_docs = [re.sub(r"\n\s*\n", "\n", d).strip() for d in docs[200:]]
    txt_docs = [d for d in txt_docs if d]
    txt = tmp_path / "b.txt"
    txt.write_text("\n\n".join(txt_docs) + "\n", encoding="utf-8")
    return [jsonl, txt], docs[:200] + txt_docs


def read_shard(path):
    data = Path(path).read_bytes()
    magic, version, bits, count, vocab, eos, digest, docs = struct.unpack("<8sIIQIIQQ", data[:48])
    assert magic == b"OSPTOKEN" and version == 1 and data[48:64] == bytes(16)
    tokens = np.frombuffer(data[64:], dtype=np.uint16 if bits == 16 else np.uint32)
    assert len(tokens) == count
    return dict(bits=bits, vocab=vocab, eos=eos, hash=digest, docs=docs, tokens=tokens)


def split_documents(tokens, eos):
    """Token lists of the documents of a shard (each ends with EOS)."""
    ends = np.flatnonzero(tokens == eos)
    assert len(tokens) == 0 or ends[-1] == len(tokens) - 1
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [tokens[s:e].tolist() for s, e in zip(starts, ends)]


def prepare(osp_bin, out, *args):
    return run_osp(osp_bin, "data", "prepare", "--out", str(out), "--quiet", *args)


@pytest.mark.parametrize("style", ["gpt2", "smollm", "llama3"])
def test_trained_tokenizer_and_shards(style, seed, osp_bin, tmp_path):
    inputs, docs = write_corpus(tmp_path, seed)
    out = tmp_path / "out"
    prepare(osp_bin, out, "--input", *map(str, inputs), "--vocab", "700", "--pre-tokenizer", style,
            "--val-fraction", "0.1", "--seed", str(seed), "--min-frequency", "1",
            "--text-documents", "blank-line")
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert tok.get_vocab_size() == 700
    texts = text_samples.texts(seed)
    assert osp_encode_many(osp_bin, out / "tokenizer.json", texts, tmp_path) == \
        [e.ids for e in tok.encode_batch(texts)]

    manifest = json.loads((out / "manifest.json").read_text())
    eos = tok.token_to_id("<|endoftext|>")
    assert manifest["eos_id"] == eos and manifest["vocab_size"] == 700 and manifest["token_bits"] == 16
    every = round(1 / 0.1)
    expected = {"train": [], "val": []}
    for i, d in enumerate(docs):
        expected["val" if i % every == seed % every else "train"].append(d)
    for split in ("train", "val"):
        got = []
        for entry in manifest["splits"][split]:
            shard = read_shard(out / entry["file"])
            assert shard["vocab"] == 700 and shard["eos"] == eos
            assert f"{shard['hash']:016x}" == manifest["tokenizer_hash"]
            assert shard["docs"] == entry["documents"] and len(shard["tokens"]) == entry["tokens"]
            got += split_documents(shard["tokens"], eos)
        assert [tok.decode(ids) for ids in got] == expected[split]
        # Documents are encoded with special tokens as plain text: a literal "<|endoftext|>" in
        # the corpus cannot fake a document boundary.
        tok.encode_special_tokens = True
        assert got == [e.ids for e in tok.encode_batch(expected[split])]
        tok.encode_special_tokens = False
    info = run_osp(osp_bin, "data", "info", "--dir", str(out)).stdout
    assert "all valid" in info


def test_output_does_not_depend_on_threads(seed, osp_bin, tmp_path):
    inputs, _ = write_corpus(tmp_path, seed)
    outs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        prepare(osp_bin, out, "--input", *map(str, inputs), "--vocab", "500", "--threads", str(threads),
                "--shard-tokens", "3000")
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert len([n for n in names if n.startswith("train_")]) > 1  # several shards were written
    assert names == sorted(p.name for p in outs[1].iterdir())
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_given_tokenizer_is_used_as_is(seed, osp_bin, tmp_path):
    inputs, docs = write_corpus(tmp_path, seed)
    first = tmp_path / "first"
    prepare(osp_bin, first, "--input", str(inputs[0]), "--vocab", "400", "--val-fraction", "0")
    second = tmp_path / "second"
    prepare(osp_bin, second, "--input", str(inputs[0]), "--tokenizer", str(first / "tokenizer.json"),
            "--val-fraction", "0")
    assert (first / "tokenizer.json").read_bytes() == (second / "tokenizer.json").read_bytes()
    assert (first / "train_000000.bin").read_bytes() == (second / "train_000000.bin").read_bytes()


def test_demo_corpus(osp_bin, tmp_path):
    out = tmp_path / "demo"
    result = prepare(osp_bin, out, "--vocab", "1024", "--shard-tokens", "500000")
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("King James Bible" in s for s in manifest["sources"])
    assert len(manifest["splits"]["train"]) >= 2 and manifest["splits"]["val"]
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    val = read_shard(out / manifest["splits"]["val"][0]["file"])
    text = tok.decode(split_documents(val["tokens"], manifest["eos_id"])[0])
    assert len(text) > 500
    assert not re.search(r"\b[1-3]?[A-Z][a-z]{1,3}\d+:\d+\b", text), "verse references must be stripped"
    assert "documents" in result.stdout


def test_info_refuses_damaged_shards(seed, osp_bin, tmp_path):
    inputs, _ = write_corpus(tmp_path, seed)
    out = tmp_path / "out"
    prepare(osp_bin, out, "--input", str(inputs[0]), "--vocab", "300")
    shard = out / "train_000000.bin"
    shard.write_bytes(shard.read_bytes()[:-3])
    result = run_osp(osp_bin, "data", "info", "--dir", str(out), check=False)
    assert result.returncode == 1
    assert str(shard) in result.stderr and "truncated" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    shard.write_bytes(b"PK\x03\x04" + bytes(200))
    result = run_osp(osp_bin, "data", "info", "--dir", str(out), check=False)
    assert result.returncode == 1 and "not an osp token shard" in result.stderr


def test_cli_errors_name_the_file(osp_bin, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"type": "Unigram", "vocab": []}}')
    result = run_osp(osp_bin, "tokenize", "--tokenizer", str(bad), input_text="hi", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"osp: {bad}: model type 'Unigram' is not supported (osp reads BPE models only)"
    missing = tmp_path / "nope.jsonl"
    result = run_osp(osp_bin, "data", "prepare", "--input", str(missing), "--out", str(tmp_path / "o"),
                     check=False)
    assert result.returncode == 1 and str(missing) in result.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"text": "fine"}\n{"text": 42}\n')
    result = run_osp(osp_bin, "data", "prepare", "--input", str(broken), "--out", str(tmp_path / "o"),
                     check=False)
    assert result.returncode == 1 and f"{broken}: line 2" in result.stderr


def test_tokenize_detokenize_round_trip(seed, osp_bin, tmp_path):
    inputs, docs = write_corpus(tmp_path, seed)
    out = tmp_path / "out"
    prepare(osp_bin, out, "--input", str(inputs[0]), "--vocab", "400")
    path = str(out / "tokenizer.json")
    text = docs[0] + "\r\n\t caf\u00e9 \u4e2d\u6587 \U0001F600 <|endoftext|>"
    ids = run_osp(osp_bin, "tokenize", "--tokenizer", path, input_text=text).stdout.split()
    listed = json.loads(run_osp(osp_bin, "tokenize", "--tokenizer", path, "--json", input_text=text).stdout)
    assert [int(i) for i in ids] == listed
    assert listed == Tokenizer.from_file(path).encode(text).ids
    back = run_osp(osp_bin, "detokenize", "--tokenizer", path, input_text=" ".join(ids)).stdout
    assert back == text
    skipped = run_osp(osp_bin, "detokenize", "--tokenizer", path, "--skip-special-tokens",
                      input_text=json.dumps(listed)).stdout
    assert skipped == text.replace("<|endoftext|>", "")
    bad = run_osp(osp_bin, "detokenize", "--tokenizer", path, input_text="1 2 999999", check=False)
    assert bad.returncode == 1 and "not below the vocabulary size" in bad.stderr
