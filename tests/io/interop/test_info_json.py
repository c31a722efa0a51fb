"""`osp info --json`: the same information as the text output, as one JSON object, checked against
the files themselves (safetensors' own reader, the `gguf` package) for an osp model file, a
checkpoint folder, a Hugging Face export folder, a plain safetensors file and GGUF files.
Fresh random weights and tokenizer every run."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from conftest import SEED, make_model, run

CONFIG = {"layers": 2, "hidden": 64, "heads": 4, "kv_heads": 2, "vocab": 320, "context": 64,
          "ffn": 96, "norm": "ssnorm", "emb_proj": True, "tie": False, "norm_eps": 1e-5,
          "rope_theta": 10000.0}


@pytest.fixture(scope="module")
def files(tmp_path_factory, osp_bin, tool, tokenizer_file):
    d = tmp_path_factory.mktemp("info_json")
    model = make_model(tool, d, CONFIG, SEED)
    run(osp_bin, "export", "hf", model, d / "hf", "--dtype", "bf16", "--tokenizer", tokenizer_file)
    out = {"model": model, "dir": d, "hf": d / "hf"}
    for t in ["f32", "q4_0"]:
        out[t] = d / f"m-{t}.gguf"
        run(osp_bin, "export", "gguf", model, out[t], "--type", t, "--tokenizer", tokenizer_file)
    return out


def info(osp_bin, target):
    p = run(osp_bin, "info", target, "--json")
    return json.loads(p.stdout)


def check_tensors_like_safetensors(j, path):
    ref = load_file(str(path))
    names = [t["name"] for t in j["tensors"]]
    assert sorted(names) == sorted(ref.keys()), names
    for t in j["tensors"]:
        assert t["shape"] == list(ref[t["name"]].shape), t
    assert j["parameters"] == sum(int(np.prod(w.shape)) for w in ref.values())


def test_osp_model_file_and_checkpoint_folder(files, osp_bin):
    j = info(osp_bin, files["model"])
    assert j["kind"] == "osp_model_file" and j["path"] == str(files["model"])
    for k in ["layers", "hidden", "heads", "kv_heads", "vocab", "context", "ffn", "norm", "emb_proj", "tie"]:
        assert j["config"][k] == CONFIG[k], k
    assert "osp.model_config" in j["metadata"]
    assert all(t["dtype"] == "F32" for t in j["tensors"])
    assert "model.embed_proj.weight" in [t["name"] for t in j["tensors"]]
    check_tensors_like_safetensors(j, files["model"])

    d = info(osp_bin, files["dir"])  # a checkpoint folder holding model.safetensors
    assert d["kind"] == "osp_model" and d["config"] == j["config"] and d["parameters"] == j["parameters"]
    assert {t["name"]: t["shape"] for t in d["tensors"]} == {t["name"]: t["shape"] for t in j["tensors"]}


def test_hf_folder_and_plain_safetensors(files, osp_bin):
    j = info(osp_bin, files["hf"])
    assert j["kind"] == "hf_llama" and j["config"]["layers"] == CONFIG["layers"]
    assert j["config"]["norm"] == "rms" and j["config"]["emb_proj"] is False
    assert isinstance(j["notes"], list)
    assert all(t["dtype"] == "BF16" and t["file"] == "model.safetensors" for t in j["tensors"])
    raw = (files["hf"] / "model.safetensors").read_bytes()  # bf16: read the header, not the data
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    header.pop("__metadata__", None)
    assert {t["name"]: t["shape"] for t in j["tensors"]} == {k: v["shape"] for k, v in header.items()}
    assert j["parameters"] == sum(int(np.prod(v["shape"])) for v in header.values())

    s = info(osp_bin, files["hf"] / "model.safetensors")
    assert s["kind"] == "safetensors" and s["config"] is None
    assert s["tensors"] == [{k: v for k, v in t.items() if k != "file"} for t in s["tensors"]]
    assert {t["name"]: t["shape"] for t in s["tensors"]} == {t["name"]: t["shape"] for t in j["tensors"]}
    assert s["parameters"] == j["parameters"]


@pytest.mark.parametrize("kind", ["f32", "q4_0"])
def test_gguf(files, osp_bin, tokenizer_file, kind):
    j = info(osp_bin, files[kind])
    assert j["kind"] == "gguf" and j["model_problem"] is None
    # The model osp reads from the file (plain Llama: rms norm, no EmbProj).
    want = {k: CONFIG[k] for k in ("layers", "hidden", "heads", "vocab", "context")}
    assert {k: j["config"][k] for k in want} == want and j["config"]["norm"] == "rms"
    assert j["gguf"] == {"version": 3, "alignment": 32}
    m, types = j["metadata"], j["metadata_types"]
    assert list(m.keys())[0] == "general.architecture" and m["general.architecture"] == "llama"
    assert m["llama.block_count"] == CONFIG["layers"] and types["llama.block_count"] == "u32"
    assert m["llama.attention.layer_norm_rms_epsilon"] == 1e-5  # f32 written by its shortest decimal
    assert types["llama.attention.layer_norm_rms_epsilon"] == "f32"
    assert m["general.file_type"] == {"f32": 0, "q4_0": 2}[kind]
    # Huge arrays are summarised by length; the value types say what they hold.
    assert m["tokenizer.ggml.tokens"] == {"type": "array[string]", "length": CONFIG["vocab"]}
    assert types["tokenizer.ggml.token_type"] == "array[i32]"
    merges = [" ".join(x) if isinstance(x, list) else x for x in json.loads(tokenizer_file.read_text())["model"]["merges"]]
    assert types["tokenizer.ggml.merges"] == "array[string]"
    if len(merges) > 64:
        assert m["tokenizer.ggml.merges"] == {"type": "array[string]", "length": len(merges)}
    else:  # short arrays are written out
        assert m["tokenizer.ggml.merges"] == merges
    assert isinstance(m["tokenizer.ggml.add_bos_token"], bool)
    ne = {t["name"]: t["ne"] for t in j["tensors"]}
    assert all(t["shape"] == list(reversed(t["ne"])) for t in j["tensors"])
    assert ne["token_embd.weight"] == [CONFIG["hidden"], CONFIG["vocab"]]
    dtypes = {t["name"]: t["dtype"] for t in j["tensors"]}
    assert dtypes["output_norm.weight"] == "F32"
    assert dtypes["blk.0.attn_q.weight"] == {"f32": "F32", "q4_0": "Q4_0"}[kind]
    assert dtypes["output.weight"] == {"f32": "F32", "q4_0": "Q8_0"}[kind]
    assert j["parameters"] == sum(int(np.prod(s)) for s in ne.values())

    gguf = pytest.importorskip("gguf")
    r = gguf.GGUFReader(str(files[kind]))
    assert list(m.keys()) == [k for k in r.fields.keys() if not k.startswith("GGUF.")]
    assert [t["name"] for t in j["tensors"]] == [t.name for t in r.tensors]
    for t, theirs in zip(j["tensors"], r.tensors):
        assert t["ne"] == [int(x) for x in theirs.shape] and t["dtype"] == theirs.tensor_type.name, t["name"]
    for k, v in m.items():
        if not isinstance(v, dict) and not isinstance(v, float):
            assert v == r.fields[k].contents(), k


def test_json_refusal_is_one_line_on_stderr(files, osp_bin):
    p = run(osp_bin, "info", files["dir"] / "nothing", "--json", ok=False)
    assert p.stdout == "" and "no such file" in p.stderr and p.stderr.count("\n") == 1
