"""Shared fixtures for the data module's Python tests: the osp binary and a fresh seed per run."""
import json
import os
import random
import subprocess

import pytest


@pytest.fixture
def seed(request):
    value = int(os.environ.get("OSP_TEST_SEED", random.randrange(1 << 31)))
    print(f"{request.node.name}: seed {value} (replay with OSP_TEST_SEED={value})")
    return value


def run_osp(osp_bin, *args, input_text=None, check=True):
    """Runs osp; stdout/stderr as str decoded without newline translation ("\r\n" stays)."""
    data = input_text.encode("utf-8") if input_text is not None else None
    result = subprocess.run([osp_bin, *args], input=data, capture_output=True)
    result.stdout = result.stdout.decode("utf-8")
    result.stderr = result.stderr.decode("utf-8", errors="replace")
    if check and result.returncode != 0:
        raise AssertionError(f"osp {' '.join(args)} failed: {result.stderr}")
    return result


def osp_encode_many(osp_bin, tokenizer_path, texts, tmp_path, special=True, special_as_text=False):
    """Encodes every text with `osp tokenize --jsonl`; returns one id list per text."""
    inp = tmp_path / "texts.jsonl"
    inp.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    args = ["tokenize", "--tokenizer", str(tokenizer_path), "--input", str(inp), "--jsonl"]
    if not special:
        args.append("--no-special-tokens")
    if special_as_text:
        args.append("--special-tokens-as-text")
    out = run_osp(osp_bin, *args).stdout.split("\n")[:-1]  # not splitlines: U+2028 is no line end here
    assert len(out) == len(texts)
    return [json.loads(line) for line in out]


def osp_decode_many(osp_bin, tokenizer_path, id_lists, tmp_path, skip_special=False):
    inp = tmp_path / "ids.jsonl"
    inp.write_text("".join(json.dumps(ids) + "\n" for ids in id_lists), encoding="utf-8")
    args = ["detokenize", "--tokenizer", str(tokenizer_path), "--input", str(inp), "--jsonl"]
    if skip_special:
        args.append("--skip-special-tokens")
    out = run_osp(osp_bin, *args).stdout.split("\n")[:-1]  # not splitlines: U+2028 is no line end here
    assert len(out) == len(id_lists)
    return [json.loads(line) for line in out]
