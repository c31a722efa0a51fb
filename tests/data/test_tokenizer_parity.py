"""osp encodes and decodes exactly like the Hugging Face `tokenizers` package.

Tokenizers are trained here with `tokenizers` itself (GPT-2, SmolLM and Llama-3 conventions, plus
variants exercising normalizers, added-token flags, split behaviours and the legacy merge form),
saved as tokenizer.json, and run through `osp tokenize` / `osp detokenize` on a diverse text set
that is partly regenerated at random on every run.
"""
import json
import random
import unicodedata

import pytest
from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

import text_samples
from conftest import osp_decode_many, osp_encode_many

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def train(tok, corpus, vocab_size=1200, special=("<|endoftext|>",)):
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(special),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    return tok


def gpt2(corpus, add_prefix_space=False):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return train(tok, corpus)


def smollm(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    return train(tok, corpus)


def llama3(corpus):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    train(tok, corpus, special=("<|begin_of_text|>", "<|end_of_text|>", "<|endoftext|>"))
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", special_tokens=[("<|begin_of_text|>", bos)])
    return tok


def normalized(corpus):
    """NFC + Lowercase + Replace normalizers, and added tokens with every flag."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([
        normalizers.NFC(), normalizers.Lowercase(), normalizers.Replace(Regex(r"\t+"), "\t")])
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    train(tok, corpus)
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, rstrip=True)])
    tok.add_tokens([AddedToken("hello", single_word=True),
                    AddedToken("Cr\u00e8me", normalized=True),
                    AddedToken(" the ", normalized=False),
                    AddedToken("<code>", lstrip=True, normalized=False)])
    return tok


def decomposed(corpus):
    """NFKD + StripAccents + Strip, grouped digits, and every split behaviour."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([
        normalizers.NFKD(), normalizers.StripAccents(), normalizers.Strip(left=True, right=False),
        normalizers.Prepend("\u2581")])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"[ \t]+"), behavior="removed"),
        pre_tokenizers.Split("-", behavior="merged_with_next"),
        pre_tokenizers.Split(Regex(r"[.,;:!?]"), behavior="merged_with_previous"),
        pre_tokenizers.Split(Regex(r"\p{Lu}+"), behavior="contiguous", invert=True),
        pre_tokenizers.Split(Regex(r"x*"), behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    return train(tok, corpus)


# Variants with Unicode normalizers: the package's normalization tables predate Unicode 14 while
# utf8proc's follow 15, so characters the package does not know are left out of their texts.
NORMALIZING = {"normalized", "decomposed"}


def for_variant(name, texts):
    return [text_samples.restrict_to_known(t) for t in texts] if name in NORMALIZING else texts


BUILDERS = {"gpt2": gpt2, "gpt2_prefix_space": lambda c: gpt2(c, True), "smollm": smollm,
            "llama3": llama3, "normalized": normalized, "decomposed": decomposed}


@pytest.fixture(params=sorted(BUILDERS))
def hf_tokenizer(request, seed, tmp_path):
    corpus = text_samples.training_corpus(seed)
    tok = BUILDERS[request.param](corpus)
    path = tmp_path / f"{request.param}.json"
    tok.save(str(path))
    return request.param, tok, path


def extra_texts(name, r):
    """Texts aimed at the variant's own features."""
    if name == "normalized":
        return ["Hello hello HELLO hellothere say hello!", "a [MASK] b   [MASK]   c[MASK]d",
                "CR\u00c8ME cre\u0300me Cr\u00e8me brul\u00e9e", "x the y  the z", "  <code>  x <code>",
                "tabs\t\t\tcollapse", "\u0130I\u0131i \u03a3\u03c3\u03c2 \u1e9e"]
    if name == "decomposed":
        return ["Hello-World. A-B-C, X-ray; xxx axxb", "  UPPER lower MiXeD 123-456 7.5",
                "\ufb01ne \u2460 \u00bd \u00c5ngstr\u00f6m", "-leading and trailing-", "x"]
    return []


def test_encodings_match(hf_tokenizer, seed, osp_bin, tmp_path):
    name, tok, path = hf_tokenizer
    r = random.Random(seed)
    texts = for_variant(name, text_samples.texts(seed) + extra_texts(name, r))
    ours = osp_encode_many(osp_bin, path, texts, tmp_path)
    theirs = [e.ids for e in tok.encode_batch(texts)]
    for text, a, b in zip(texts, ours, theirs):
        assert a == b, f"{name}: {text!r}"
    ours_plain = osp_encode_many(osp_bin, path, texts[:40], tmp_path, special=False)
    theirs_plain = [tok.encode(t, add_special_tokens=False).ids for t in texts[:40]]
    assert ours_plain == theirs_plain
    tok.encode_special_tokens = True  # special tokens' text encoded like any other
    ours_text = osp_encode_many(osp_bin, path, texts, tmp_path, special_as_text=True)
    assert ours_text == [e.ids for e in tok.encode_batch(texts)]


def test_decodings_match(hf_tokenizer, seed, osp_bin, tmp_path):
    name, tok, path = hf_tokenizer
    r = random.Random(seed)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    texts = for_variant(name, text_samples.texts(seed, 60) + extra_texts(name, r))
    id_lists = [e.ids for e in tok.encode_batch(texts)]
    # Random id sequences decode to arbitrary bytes: invalid UTF-8 must be repaired the same way.
    id_lists += [[r.randrange(vocab) for _ in range(r.randint(0, 30))] for _ in range(100)]
    for skip in (False, True):
        ours = osp_decode_many(osp_bin, path, id_lists, tmp_path, skip_special=skip)
        theirs = tok.decode_batch(id_lists, skip_special_tokens=skip)
        for ids, a, b in zip(id_lists, ours, theirs):
            assert a == b, f"{name}: {ids}"


def test_legacy_string_merges_encode_the_same(seed, osp_bin, tmp_path):
    """Merges written as "a b" strings (tokenizers < 0.20) and as pairs give the same tokens."""
    tok = gpt2(text_samples.training_corpus(seed))
    data = json.loads(tok.to_str())
    assert isinstance(data["model"]["merges"][0], list)
    pair_path = tmp_path / "pairs.json"
    pair_path.write_text(tok.to_str(), encoding="utf-8")
    data["model"]["merges"] = [f"{a} {b}" for a, b in data["model"]["merges"]]
    legacy_path = tmp_path / "legacy.json"
    legacy_path.write_text(json.dumps(data), encoding="utf-8")
    legacy = Tokenizer.from_file(str(legacy_path))
    texts = text_samples.texts(seed, 50)
    assert osp_encode_many(osp_bin, legacy_path, texts, tmp_path) == [e.ids for e in legacy.encode_batch(texts)]
    assert osp_encode_many(osp_bin, legacy_path, texts, tmp_path) == osp_encode_many(osp_bin, pair_path, texts, tmp_path)


def assigned_code_points():
    """Code points assigned in Python's Unicode database (14.0, the version PCRE2 10.42 knows)."""
    return [c for c in range(0x110000)
            if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) != "Cn"]


@pytest.mark.parametrize("name", ["gpt2", "llama3", "normalized"])
def test_code_point_sweep(name, seed, osp_bin, tmp_path):
    """Every character class edge: a fresh random sample of all assigned code points (plus all of
    Latin-1 and general punctuation), each in contexts that probe the regexes and normalizers."""
    r = random.Random(seed)
    points = list(range(0x300)) + list(range(0x2000, 0x2070)) + r.sample(assigned_code_points(), 40000)
    chunks, chunk = [], []
    for c in points:
        ch = chr(c)
        chunk.append(f"a{ch} {ch}'{ch}s 1{ch}2{ch}{ch}\n{ch}  {ch}'S {ch}\u0301 ")
        if len(chunk) == 400:
            chunks.append("".join(chunk))
            chunk = []
    chunks.append("".join(chunk))
    chunks = for_variant(name, chunks)
    tok = BUILDERS[name](text_samples.training_corpus(seed, 100))
    path = tmp_path / "tok.json"
    tok.save(str(path))
    ours = osp_encode_many(osp_bin, path, chunks, tmp_path)
    theirs = [e.ids for e in tok.encode_batch(chunks)]
    bad = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
    if bad:
        # Narrow the first difference down to its code point for the message.
        pieces = chunks[bad[0]].split("'S ")
        mine = osp_encode_many(osp_bin, path, pieces, tmp_path)
        culprits = [hex(ord(p[1])) for p, m in zip(pieces, mine) if len(p) > 1 and m != tok.encode(p).ids]
        pytest.fail(f"{name}: {len(bad)} chunks differ; first code points: {culprits[:10]}")
