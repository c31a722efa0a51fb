"""Shared fixtures of the interop tests: the osp binary, interop_tool, a fresh seed, and a
byte-level BPE tokenizer trained by the `tokenizers` package on fresh random text."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

SEED = int(os.environ.get("OSP_TEST_SEED") or int.from_bytes(os.urandom(4), "little"))  # OSP_TEST_SEED replays


def _build_dir():
    build = os.environ.get("OSP_BUILD_DIR")
    if not build:
        pytest.skip("OSP_BUILD_DIR is not set (run through ctest)")
    return Path(build)


@pytest.fixture(autouse=True)
def _print_seed(request):
    """Shown with a failing test's captured output."""
    print(f"{request.node.name}: seed {SEED} (replay with OSP_TEST_SEED={SEED})")


@pytest.fixture(scope="session")
def seed():
    return SEED


@pytest.fixture(scope="session")
def osp_bin():
    p = _build_dir() / "src" / "osp"
    if not p.exists():
        p = _build_dir() / "osp"
    assert p.exists(), f"{p} is missing: build the osp target"
    return p


@pytest.fixture(scope="session")
def tool():
    p = _build_dir() / "tests" / "io" / "interop_tool"
    assert p.exists(), f"{p} is missing: build the interop_tool target"
    return p


def run(*args, ok=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       env={**os.environ, "OMP_WAIT_POLICY": "passive", "OMP_NUM_THREADS": "2"})
    assert (p.returncode == 0) == ok, f"seed {SEED}: {args}: rc={p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def random_text(rng, n_words=3000):
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = ["".join(rng.choice(letters, size=rng.integers(1, 8))) for _ in range(300)]
    out = []
    for _ in range(n_words):
        w = words[rng.integers(len(words))]
        out.append(w.capitalize() if rng.random() < 0.1 else w)
        if rng.random() < 0.05:
            out.append(str(rng.integers(10000)))
    return " ".join(out)


@pytest.fixture(scope="session")
def tokenizer_file(tmp_path_factory):
    """GPT-2-style tokenizer (ByteLevel pre-tokenizer with the GPT-2 regex, no BOS)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    rng = np.random.default_rng(SEED)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([random_text(rng) for _ in range(4)], trainer=trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


def make_model(tool, folder, config, seed):
    import json
    path = Path(folder) / "model.safetensors"
    run(tool, "make", json.dumps(config), seed, path)
    return path


def osp_logits(tool, model, tokens, folder):
    out = Path(folder) / f"logits_{abs(hash(str(model)))}.safetensors"
    run(tool, "logits", model, ",".join(map(str, tokens)), out)
    return load_file(str(out))["logits"]


def max_rel(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b)) / np.max(np.abs(b)))
