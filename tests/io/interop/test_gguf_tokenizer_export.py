"""`osp export gguf` writes the special tokens `osp tokenize` uses: BOS/EOS and add_bos/add_eos
come from the tokenizer.json's post-processor, read by the same tokenizer that encodes.

The regression: SmolLM2's tokenizer.json as transformers writes it prepends <|im_start|> (id 1),
and the export used to write add_bos_token = true with BOS id 0. Tokenizers osp cannot export
for llama.cpp (SentencePiece style: Metaspace, byte fallback that can fire) are refused by name.
"""
import json
from pathlib import Path

import pytest

from conftest import SEED, make_model, run

gguf = pytest.importorskip("gguf")

SMOLLM2 = Path(__file__).resolve().parents[3] / ".fixtures" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def config(vocab):
    return {"layers": 1, "hidden": 32, "heads": 2, "kv_heads": 1, "vocab": vocab, "context": 32,
            "ffn": 64, "norm": "rms", "emb_proj": False, "tie": True, "norm_eps": 1e-5,
            "rope_theta": 10000.0}


def field(reader, key):
    return reader.fields[key].contents()


def export(osp_bin, tool, folder, tokenizer, vocab, ok=True):
    model = make_model(tool, folder, config(vocab), SEED)
    out = Path(folder) / "m.gguf"
    p = run(osp_bin, "export", "gguf", model, out, "--type", "f32", "--tokenizer", tokenizer, ok=ok)
    return (gguf.GGUFReader(str(out)) if ok else None), p


def first_ids(osp_bin, tokenizer, folder):
    """What `osp tokenize` adds before and after a text."""
    text = Path(folder) / "t.txt"
    text.write_text("hello", encoding="utf-8")
    return json.loads(run(osp_bin, "tokenize", "--tokenizer", tokenizer, "--input", text, "--json").stdout)


def with_template(tokenizer_file, folder, single, specials):
    data = json.loads(Path(tokenizer_file).read_text(encoding="utf-8"))
    data["post_processor"] = {"type": "TemplateProcessing", "single": single, "pair": single,
                              "special_tokens": specials}
    path = Path(folder) / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def test_smollm2_transformers_file_bos_is_the_post_processors(tmp_path, osp_bin, tool):
    if not SMOLLM2.exists():
        pytest.skip(f"{SMOLLM2} is missing (run scripts/fetch-fixtures)")
    from transformers import AutoTokenizer
    AutoTokenizer.from_pretrained(str(SMOLLM2.parent), gguf_file=SMOLLM2.name).save_pretrained(str(tmp_path / "tok"))
    tokenizer = tmp_path / "tok" / "tokenizer.json"
    data = json.loads(tokenizer.read_text(encoding="utf-8"))
    assert data["model"]["byte_fallback"]  # the shape of the bug report
    r, _ = export(osp_bin, tool, tmp_path, tokenizer, 49152)
    ids = first_ids(osp_bin, tokenizer, tmp_path)
    assert ids[0] == 1
    assert field(r, "tokenizer.ggml.add_bos_token") and field(r, "tokenizer.ggml.bos_token_id") == 1
    assert not field(r, "tokenizer.ggml.add_eos_token")
    assert field(r, "tokenizer.ggml.eos_token_id") == 0  # <|endoftext|>
    assert field(r, "tokenizer.ggml.model") == "gpt2" and field(r, "tokenizer.ggml.pre") == "gpt-2"
    assert field(r, "tokenizer.ggml.tokens")[1] == "<|im_start|>"
    assert field(r, "tokenizer.ggml.token_type")[1] == 3


@pytest.mark.parametrize("where", ["bos", "eos", "both"])
def test_template_tokens_become_bos_eos(where, tmp_path, osp_bin, tool, tokenizer_file):
    """A template around the text: its tokens are BOS/EOS, whatever their names."""
    data = json.loads(Path(tokenizer_file).read_text(encoding="utf-8"))
    vocab = data["model"]["vocab"]
    a, b = sorted(vocab.items(), key=lambda kv: kv[1])[40:42]  # ordinary tokens on purpose
    single = [{"Sequence": {"id": "A", "type_id": 0}}]
    specials = {}
    if where in ("bos", "both"):
        single.insert(0, {"SpecialToken": {"id": a[0], "type_id": 0}})
        specials[a[0]] = {"id": a[0], "ids": [a[1]], "tokens": [a[0]]}
    if where in ("eos", "both"):
        single.append({"SpecialToken": {"id": b[0], "type_id": 0}})
        specials[b[0]] = {"id": b[0], "ids": [b[1]], "tokens": [b[0]]}
    path, _ = with_template(tokenizer_file, tmp_path, single, specials)
    r, _ = export(osp_bin, tool, tmp_path, path, 320)
    ids = first_ids(osp_bin, path, tmp_path)
    assert field(r, "tokenizer.ggml.add_bos_token") == (where != "eos")
    assert field(r, "tokenizer.ggml.add_eos_token") == (where != "bos")
    if where != "eos":
        assert field(r, "tokenizer.ggml.bos_token_id") == a[1] == ids[0]
    if where != "bos":
        assert field(r, "tokenizer.ggml.eos_token_id") == b[1] == ids[-1]


def test_two_tokens_before_the_text_are_refused(tmp_path, osp_bin, tool, tokenizer_file):
    data = json.loads(Path(tokenizer_file).read_text(encoding="utf-8"))
    eos = data["added_tokens"][0]
    single = [{"SpecialToken": {"id": eos["content"], "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]
    specials = {eos["content"]: {"id": eos["content"], "ids": [eos["id"], eos["id"]], "tokens": [eos["content"]] * 2}}
    path, _ = with_template(tokenizer_file, tmp_path, single, specials)
    _, p = export(osp_bin, tool, tmp_path, path, 320, ok=False)
    assert "post_processor adds 2 tokens before" in p.stderr


def test_sentencepiece_style_is_refused_by_name(tmp_path, osp_bin, tool):
    from tokenizers.implementations import SentencePieceBPETokenizer
    tok = SentencePieceBPETokenizer()
    tok.train_from_iterator(["hello world, this is a small corpus"] * 20, vocab_size=100,
                            special_tokens=["<unk>"], show_progress=False)
    path = tmp_path / "spm.json"
    tok.save(str(path))
    _, p = export(osp_bin, tool, tmp_path, path, 128, ok=False)
    assert "not byte-level (SentencePiece style" in p.stderr, p.stderr
    assert "not exported" in p.stderr
