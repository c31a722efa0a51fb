"""osp's safetensors reader and writer against the Python `safetensors` package (the format's
reference implementation): files it writes are read by osp (st_tool dump), files osp writes are
read by it, osp's files match its bytes exactly, and osp's fp32 -> bf16/f16 encoding matches
torch and numpy. Random data is fresh on every run; the seed is in every failure message."""
import json
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.numpy import load_file as np_load_file
from safetensors.numpy import save_file as np_save_file
from safetensors.torch import save_file as torch_save_file

SEED = int(os.environ.get("OSP_TEST_SEED") or int.from_bytes(os.urandom(8), "little"))  # OSP_TEST_SEED replays
NUMPY_DTYPES = {  # safetensors name -> numpy dtype
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16,
    "F16": np.float16, "I32": np.int32, "U32": np.uint32, "F32": np.float32,
    "F64": np.float64, "I64": np.int64, "U64": np.uint64,
}


@pytest.fixture(scope="module")
def st_tool():
    build = os.environ.get("OSP_BUILD_DIR")
    if not build:
        pytest.skip("OSP_BUILD_DIR is not set (run through ctest)")
    tool = Path(build) / "tests" / "io" / "st_tool"
    assert tool.exists(), f"{tool} is missing: build the st_tool target"
    return tool


def run(tool, *args, ok=True):
    p = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True)
    assert (p.returncode == 0) == ok, f"seed {SEED}: st_tool {args}: rc={p.returncode} {p.stderr}"
    return p


def random_array(rng, dtype):
    shape = tuple(int(d) for d in rng.integers(0, 5, size=rng.integers(0, 4)))
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    # Every bit pattern of the dtype, NaNs and infinities included.
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * np.dtype(dtype).itemsize, dtype=np.uint8)
    return raw.view(dtype).reshape(shape)


def random_tensors(rng):
    tensors = {}
    for name, dtype in NUMPY_DTYPES.items():
        for k in range(2):
            name_k = f"model.layers.{rng.integers(100)}.{name.lower()}_{k}"
            tensors[name_k] = random_array(rng, dtype)
    return tensors


def test_osp_reads_files_written_by_safetensors(st_tool, tmp_path):
    rng = np.random.default_rng(SEED)
    tensors = random_tensors(rng)
    bf16 = torch.randn(int(rng.integers(1, 50)), 3).to(torch.bfloat16)
    np_save_file(tensors, tmp_path / "np.safetensors", metadata={"format": "pt", "run": str(SEED)})
    torch_save_file({"bf": bf16}, tmp_path / "bf.safetensors")

    dump = json.loads(run(st_tool, "dump", tmp_path / "np.safetensors").stdout)
    assert dump["metadata"] == {"format": "pt", "run": str(SEED)}
    assert dump["buffer_offset"] % 8 == 0
    got = {t["name"]: t for t in dump["tensors"]}
    assert sorted(got) == sorted(tensors), f"seed {SEED}"
    for name, a in tensors.items():
        t = got[name]
        assert np.dtype(NUMPY_DTYPES[t["dtype"]]) == a.dtype, f"seed {SEED}: {name}"
        assert tuple(t["shape"]) == a.shape, f"seed {SEED}: {name}"
        assert bytes.fromhex(t["hex"]) == a.tobytes(), f"seed {SEED}: {name}"
        values = np.frombuffer(bytes.fromhex(t["f64hex"]), "<f8")
        np.testing.assert_array_equal(values, a.astype(np.float64).ravel(),
                                      err_msg=f"seed {SEED}: {name}")

    (t,) = json.loads(run(st_tool, "dump", tmp_path / "bf.safetensors").stdout)["tensors"]
    assert t["dtype"] == "BF16" and tuple(t["shape"]) == tuple(bf16.shape)
    values = np.frombuffer(bytes.fromhex(t["f64hex"]), "<f8")
    np.testing.assert_array_equal(values, bf16.double().numpy().ravel())


def test_safetensors_reads_files_written_by_osp_byte_for_byte(st_tool, tmp_path):
    rng = np.random.default_rng(SEED + 1)
    tensors = random_tensors(rng)
    ref = tmp_path / "ref.safetensors"
    np_save_file(tensors, ref, metadata={"format": "pt"})
    ours = tmp_path / "ours.safetensors"
    run(st_tool, "copy", ref, ours)  # our reader, then our writer
    loaded = np_load_file(ours)
    assert sorted(loaded) == sorted(tensors)
    for name, a in tensors.items():
        assert loaded[name].dtype == a.dtype and loaded[name].shape == a.shape
        assert loaded[name].tobytes() == a.tobytes(), f"seed {SEED}: {name}"
    # Same tensor order, header text and padding as the reference writer (spec §1.5).
    assert ours.read_bytes() == ref.read_bytes(), f"seed {SEED}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary file left"


def test_metadata_reaches_safetensors(st_tool, tmp_path):
    src = tmp_path / "src.safetensors"
    meta = {"format": "pt", "step": "1200", "config": '{"dim": 576}', "unicode": "naïve ✓"}
    np_save_file({"x": np.zeros(3, np.float32)}, src, metadata=meta)
    run(st_tool, "copy", src, tmp_path / "out.safetensors")
    with safe_open(tmp_path / "out.safetensors", "np") as f:
        assert f.metadata() == meta


def test_fp32_to_bf16_and_f16_match_torch_and_numpy(st_tool, tmp_path):
    rng = np.random.default_rng(SEED + 2)
    scale = np.float32(2.0) ** rng.integers(-30, 30, 4096)
    x = rng.standard_normal(4096).astype(np.float32) * scale
    # Exact ties for both formats, the largest values, subnormals, signed zeros, infinities, NaN.
    ties = (1 + np.arange(64, dtype=np.float32) * 2 ** -7 + 2 ** -8).astype(np.float32)
    special = np.array([65504, 65520, -65519.99, 3.4e38, 1e-45, 6e-8, -0.0, 0.0, np.inf, -np.inf,
                        np.nan], dtype=np.float32)
    x = np.concatenate([x, ties, ties + np.float32(2 ** -11), special]).astype(np.float32)
    np_save_file({"x": x}, tmp_path / "x.safetensors")
    for dtype in ("BF16", "F16"):
        out = tmp_path / f"x_{dtype}.safetensors"
        run(st_tool, "convert", tmp_path / "x.safetensors", out, dtype)
        with safe_open(out, "pt") as f:
            got = f.get_tensor("x")
        want = torch.from_numpy(x).to(torch.bfloat16 if dtype == "BF16" else torch.float16)
        nan = torch.isnan(want)
        assert torch.equal(torch.isnan(got), nan), f"seed {SEED}: {dtype} NaN"
        got_bits = got.view(torch.int16)[~nan]
        want_bits = want.view(torch.int16)[~nan]
        bad = (got_bits != want_bits).nonzero().flatten()
        first = x[~nan.numpy()][bad[:5].numpy()]
        assert bad.numel() == 0, f"seed {SEED}: {dtype} differs at {first}"


def test_special_shapes(st_tool, tmp_path):
    src = tmp_path / "s.safetensors"
    torch_save_file({"scalar": torch.tensor(2.5), "empty": torch.zeros(3, 0, 2),
                     "one": torch.ones(1, dtype=torch.float64)}, src, metadata={"format": "pt"})
    dump = json.loads(run(st_tool, "dump", src).stdout)
    shapes = {t["name"]: t["shape"] for t in dump["tensors"]}
    assert shapes == {"scalar": [], "empty": [3, 0, 2], "one": [1]}
    run(st_tool, "copy", src, tmp_path / "o.safetensors")
    assert (tmp_path / "o.safetensors").read_bytes() == src.read_bytes()
    empty = tmp_path / "empty.safetensors"
    np_save_file({}, empty, metadata={"format": "pt"})
    assert json.loads(run(st_tool, "dump", empty).stdout)["tensors"] == []


def raw(header: str, data: bytes = b"", n=None) -> bytes:
    h = header.encode()
    return struct.pack("<Q", len(h) if n is None else n) + h + data


BROKEN = {  # refused by the reference reader too: the two implementations agree
    "truncated data": raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', bytes(7)),
    "length past end": raw('{}', b"", 3),
    "bad json": raw('{"a":'),
    "gap": raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8)),
    "overlap": raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                   '"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8)),
    "size mismatch": raw('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', bytes(8)),
    "unknown dtype": raw('{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]}}', bytes(8)),
    "half-byte F4": raw('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', bytes(2)),
    "trailing bytes": raw('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', bytes(2)),
    "numeric metadata": raw('{"__metadata__":{"k":1}}'),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_both_refuse_broken_files(st_tool, tmp_path, case):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(BROKEN[case])
    with pytest.raises(Exception):
        with safe_open(path, "np") as f:
            [f.get_tensor(k) for k in f.keys()]
    err = run(st_tool, "check", path, ok=False).stderr.strip()
    assert err.startswith(f"{path}: ") and "\n" not in err, err
