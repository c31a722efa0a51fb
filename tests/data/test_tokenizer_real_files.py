"""osp reads the tokenizer.json files real tools write and encodes/decodes them like `tokenizers`.

(a) Files transformers writes: SmolLM2's and Llama-2's (SentencePiece-converted BPE with
    byte_fallback) tokenizers converted from GGUF files, GPT-2's and Qwen2's built by
    GPT2TokenizerFast / Qwen2TokenizerFast from a vocab.json and merges.txt that this test extracts
    from llama.cpp's vocabulary GGUFs (the published shapes: "" subword prefix, NFC, Split regex).
(b) Files built with the tokenizers package's own classes: a SentencePieceBPETokenizer trained on
    a corpus, and a Llama-2-style BPE with <0xNN> byte tokens, byte_fallback and unk made by hand,
    in variants covering Metaspace's options, ignore_merges and decoder orders.

The GGUF-derived files need .fixtures (scripts/fetch-fixtures); those tests skip without it.
"""
import json
import random
from pathlib import Path

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

import text_samples
from conftest import osp_decode_many, osp_encode_many

FIXTURES = Path(__file__).resolve().parents[2] / ".fixtures"
VOCABS = FIXTURES / "llama.cpp-vocab"
SMOLLM2 = FIXTURES / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"

# Texts aimed at SentencePiece-style files: the meta symbol, byte tokens' spelling, specials.
SPM_TEXTS = ["\u2581", "\u2581\u2581a \u2581b", " a", "  two  spaces  ", "<s>", "</s>", "<unk>",
             "<s>hello</s> <s> x", "a<s>b", "<0x41><0xE2>", "\U0001F9D1\u200d\U0001F52C \u0000 \x7f",
             "tab\there\nnew line\r\n", "\u00e9\u00e8\u00ea \u4e2d\u6587 \ud55c\uad6d\uc5b4 \u0e44\u0e17\u0e22",
             "<|im_start|>user\nhi<|im_end|>", "<|endoftext|> <|endoftext|>"]


def require(path):
    if not path.exists():
        pytest.skip(f"{path} is missing (run scripts/fetch-fixtures)")


def hf_decode(tok, ids, skip):
    """tokenizers' decode; None where the library panics (its Strip decoder on short tokens)."""
    try:
        return tok.decode(ids, skip_special_tokens=skip)
    except BaseException:  # pyo3's PanicException derives from BaseException
        return None


def check_parity(name, path, seed, osp_bin, tmp_path, normalizing=False, n_random=150):
    """Encodings (with and without special tokens, specials as text) and decodings agree."""
    tok = Tokenizer.from_file(str(path))
    r = random.Random(seed)
    texts = text_samples.texts(seed, n_random) + SPM_TEXTS
    if normalizing:  # the package's Unicode tables are older than utf8proc's
        texts = [text_samples.restrict_to_known(t) for t in texts]
    ours = osp_encode_many(osp_bin, path, texts, tmp_path)
    theirs = [e.ids for e in tok.encode_batch(texts)]
    for text, a, b in zip(texts, ours, theirs):
        assert a == b, f"{name}: {text!r}"
    plain = texts[:60]
    assert osp_encode_many(osp_bin, path, plain, tmp_path, special=False) == \
        [e.ids for e in tok.encode_batch(plain, add_special_tokens=False)], name
    tok.encode_special_tokens = True
    assert osp_encode_many(osp_bin, path, texts, tmp_path, special_as_text=True) == \
        [e.ids for e in tok.encode_batch(texts)], name
    tok.encode_special_tokens = False
    vocab = tok.get_vocab_size(with_added_tokens=True)
    id_lists = theirs[:80] + [[r.randrange(vocab) for _ in range(r.randint(1, 30))] for _ in range(150)]
    # Byte tokens in runs, valid UTF-8 or not, next to other tokens.
    byte_ids = [i for t, i in tok.get_vocab().items() if len(t) == 6 and t.startswith("<0x")]
    if byte_ids:
        id_lists += [[r.choice(byte_ids + [r.randrange(vocab)]) for _ in range(r.randint(1, 12))]
                     for _ in range(150)]
    for skip in (False, True):
        ours = osp_decode_many(osp_bin, path, id_lists, tmp_path, skip_special=skip)
        for ids, a in zip(id_lists, ours):
            b = hf_decode(tok, ids, skip)
            if b is not None:
                assert a == b, f"{name}: decode {ids} (skip_special_tokens={skip})"


def gguf_vocab(path):
    """Tokens and merges of a llama.cpp vocabulary GGUF (gguf package)."""
    import gguf
    reader = gguf.GGUFReader(str(path))

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
    return strings("tokenizer.ggml.tokens"), strings("tokenizer.ggml.merges")


def from_vocab_files(cls, gguf_path, folder):
    """A transformers fast tokenizer built from vocab.json + merges.txt, saved as tokenizer.json."""
    tokens, merges = gguf_vocab(gguf_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tok = cls(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"))
    tok.save_pretrained(str(folder / "out"))
    return folder / "out" / "tokenizer.json"


@pytest.fixture(scope="module")
def transformers_files(tmp_path_factory):
    """tokenizer.json files written by transformers, made once per module (the Llama-2 GGUF
    conversion rebuilds its merges and takes half a minute)."""
    from transformers import AutoTokenizer, GPT2TokenizerFast, Qwen2TokenizerFast
    root = tmp_path_factory.mktemp("transformers")
    files = {}
    if SMOLLM2.exists():
        AutoTokenizer.from_pretrained(str(SMOLLM2.parent), gguf_file=SMOLLM2.name).save_pretrained(str(root / "smollm2"))
        files["smollm2"] = root / "smollm2" / "tokenizer.json"
    spm = VOCABS / "ggml-vocab-llama-spm.gguf"
    if spm.exists():
        AutoTokenizer.from_pretrained(str(VOCABS), gguf_file=spm.name).save_pretrained(str(root / "llama-spm"))
        files["llama-spm"] = root / "llama-spm" / "tokenizer.json"
    if (VOCABS / "ggml-vocab-gpt-2.gguf").exists():
        files["gpt2"] = from_vocab_files(GPT2TokenizerFast, VOCABS / "ggml-vocab-gpt-2.gguf", root / "gpt2")
    if (VOCABS / "ggml-vocab-qwen2.gguf").exists():
        files["qwen2"] = from_vocab_files(Qwen2TokenizerFast, VOCABS / "ggml-vocab-qwen2.gguf", root / "qwen2")
    return files


@pytest.mark.parametrize("name", ["smollm2", "llama-spm", "gpt2", "qwen2"])
def test_transformers_written_files(name, transformers_files, seed, osp_bin, tmp_path):
    require(SMOLLM2 if name == "smollm2" else VOCABS)
    if name not in transformers_files:
        pytest.skip(f"no fixture for {name}")
    path = transformers_files[name]
    model = json.loads(path.read_text(encoding="utf-8"))["model"]
    if name in ("gpt2", "qwen2"):  # the shape this test is about
        assert model["continuing_subword_prefix"] == "" and model["end_of_word_suffix"] == ""
    if name in ("smollm2", "llama-spm"):
        assert model["byte_fallback"]
    check_parity(name, path, seed, osp_bin, tmp_path, normalizing=name == "qwen2")


def test_llama_spm_metaspace_variants(transformers_files, seed, osp_bin, tmp_path):
    """The Llama-2 vocabulary with the Metaspace pre-tokenizer transformers writes for
    legacy=False (and the other schemes), instead of the Prepend + Replace normalizer."""
    require(VOCABS / "ggml-vocab-llama-spm.gguf")
    data = json.loads(transformers_files["llama-spm"].read_text(encoding="utf-8"))
    data["normalizer"] = None
    for scheme in ("first", "always", "never"):
        for split in (False, True):
            data["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581",
                                     "prepend_scheme": scheme, "split": split}
            data["decoder"] = {"type": "Sequence", "decoders": [
                {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": scheme, "split": split},
                {"type": "ByteFallback"}, {"type": "Fuse"}]}
            path = tmp_path / f"llama-{scheme}-{split}.json"
            path.write_text(json.dumps(data), encoding="utf-8")
            check_parity(f"llama-spm {scheme} split={split}", path, seed, osp_bin, tmp_path, n_random=40)


def test_llama_cpp_ids_of_spm_vocab(transformers_files, osp_bin, tmp_path):
    """The transformers conversion of the Llama-2 vocabulary, encoded by osp, gives llama.cpp's
    own test ids (ggml-vocab-llama-spm.gguf.inp/.out) where tokenizers does too."""
    require(VOCABS / "ggml-vocab-llama-spm.gguf.inp")
    inp = (VOCABS / "ggml-vocab-llama-spm.gguf.inp").read_text(encoding="utf-8")
    out = (VOCABS / "ggml-vocab-llama-spm.gguf.out").read_text(encoding="utf-8")
    texts = inp.split("\n__ggml_vocab_test__\n")[:-1]
    expected = [[int(x) for x in line.split()] for line in out.split("\n")[:len(texts)]]
    tok = Tokenizer.from_file(str(transformers_files["llama-spm"]))
    ours = osp_encode_many(osp_bin, transformers_files["llama-spm"], texts, tmp_path, special=False)
    agree = 0
    for text, mine, want in zip(texts, ours, expected):
        assert mine == tok.encode(text, add_special_tokens=False).ids, repr(text)
        agree += mine == want
    assert agree >= len(texts) - 3, f"only {agree} of {len(texts)} agree with llama.cpp"


def spm_corpus(seed):
    return [text_samples.restrict_to_known(t) for t in text_samples.training_corpus(seed, 300)]


def test_sentencepiece_bpe_trained(seed, osp_bin, tmp_path):
    """tokenizers' SentencePieceBPETokenizer (NFKC, Metaspace, unk) trained on a corpus."""
    from tokenizers.implementations import SentencePieceBPETokenizer
    tok = SentencePieceBPETokenizer(unk_token="<unk>", fuse_unk=True)
    tok.train_from_iterator(spm_corpus(seed), vocab_size=800, special_tokens=["<unk>", "<s>", "</s>"],
                            show_progress=False)
    path = tmp_path / "spm-bpe.json"
    tok.save(str(path))
    check_parity("SentencePieceBPETokenizer", path, seed, osp_bin, tmp_path, normalizing=True)


def llama2_style(seed, tmp_path, missing_bytes=(), ignore_merges=False, decoder=None):
    """A Llama-2-style BPE made by hand: <unk> <s> </s>, the 256 <0xNN> byte tokens (less
    missing_bytes), merges trained on "▁"-joined text, byte_fallback, fuse_unk, BOS template."""
    trained = Tokenizer(models.BPE(unk_token="<unk>"))
    trained.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"), normalizers.Replace(" ", "\u2581")])
    trainer = trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    trained.train_from_iterator(text_samples.training_corpus(seed, 200), trainer)
    data = json.loads(trained.to_str())
    learned = sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        if b not in missing_bytes:
            vocab[f"<0x{b:02X}>"] = len(vocab)
    for token, _ in learned:
        vocab.setdefault(token, len(vocab))
    data["model"].update(vocab=vocab, byte_fallback=True, fuse_unk=True, ignore_merges=ignore_merges)
    data["pre_tokenizer"] = None
    data["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    data["decoder"] = decoder or {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    path = tmp_path / "llama2-style.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("variant", ["plain", "missing_bytes", "ignore_merges", "decoder_order"])
def test_llama2_style_byte_fallback(variant, seed, osp_bin, tmp_path):
    kwargs = {}
    if variant == "missing_bytes":  # some characters have no complete byte spelling: unk, fused
        kwargs["missing_bytes"] = set(range(0x80, 0xA0)) | {0x00, 0xF0}
    if variant == "ignore_merges":
        kwargs["ignore_merges"] = True
    if variant == "decoder_order":
        kwargs["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"},
            {"type": "Strip", "content": "\u2581", "start": 2, "stop": 1},
            {"type": "Replace", "pattern": {"Regex": "\u2581+"}, "content": " "},
            {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 1}]}]}
    check_parity(f"llama2-style {variant}", llama2_style(seed, tmp_path, **kwargs), seed, osp_bin, tmp_path)


def test_byte_fallback_with_byte_level(seed, osp_bin, tmp_path):
    """byte_fallback under a ByteLevel pre-tokenizer whose vocab lacks some byte characters: the
    missing character's UTF-8 bytes become <0xNN> tokens (SmolLM2's conversion has this shape)."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>"], show_progress=False)
    tok.train_from_iterator(text_samples.training_corpus(seed, 100), trainer)
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    data["model"].update(byte_fallback=True, unk_token="<|endoftext|>", fuse_unk=True)
    data["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]}
    path = tmp_path / "byte-level-fallback.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    check_parity("byte-level + byte_fallback", path, seed, osp_bin, tmp_path)
