"""osp's GGUF dequantizers against the gguf package's (the reference implementation in Python of
llama.cpp's block layouts), type by type: a GGUF file written by gguf's own writer holds fresh
random blocks of every type osp decodes (random quantized bits and scale bytes, finite random
fp16 scales), interop_tool gguf-dump decodes them with osp's reader, and every value must equal
gguf.quants.dequantize's to fp32 rounding (both compute in fp32; the order of a product of
three factors may differ by one rounding).
"""
import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as Q, GGUFWriter
from gguf.quants import dequantize
from safetensors.numpy import load_file

from conftest import run

# Byte offsets of the fp16 fields (scales, mins) inside one block of each type.
F16_FIELDS = {Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0],
              Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208]}
TYPES = sorted(F16_FIELDS, key=lambda t: t.value)


def random_blocks(rng, qtype, rows, cols):
    block, size = GGML_QUANT_SIZES[qtype]
    n_blocks = rows * cols // block
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off in F16_FIELDS[qtype]:  # finite scales of either sign, some tiny, some large
        scale = (rng.normal(size=n_blocks) * 10.0 ** rng.uniform(-4, 1, size=n_blocks)).astype(np.float16)
        raw[:, off:off + 2] = scale.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(rows, cols // block * size)


def test_every_block_type_decodes_like_the_gguf_package(tmp_path, tool, seed):
    rng = np.random.default_rng(seed)
    path = tmp_path / "blocks.gguf"
    w = GGUFWriter(str(path), "llama")
    expect = {}
    for qtype in TYPES:
        rows, cols = 3, 512  # two K-quant super-blocks or sixteen 32-blocks per row
        raw = random_blocks(rng, qtype, rows, cols)
        name = f"t.{qtype.name}"
        w.add_tensor(name, raw, raw_shape=raw.shape, raw_dtype=qtype)  # the shape in bytes
        expect[name] = dequantize(raw, qtype).reshape(rows, cols).astype(np.float32)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    out = tmp_path / "ours.safetensors"
    run(tool, "gguf-dump", path, out)
    ours = load_file(str(out))
    bad = []
    for name, ref in expect.items():
        got = ours[name]
        assert got.shape == ref.shape, (name, got.shape, ref.shape)
        err = np.abs(got.astype(np.float64) - ref) / np.maximum(np.abs(ref), 1e-30)
        worst = float(np.max(np.where(np.abs(ref) > 0, err, np.abs(got))))
        if worst > 2.5e-7:
            i = int(np.argmax(err))
            bad.append(f"{name}: worst relative error {worst:.3g} at {i}: ours {got.flat[i]!r}, gguf {ref.flat[i]!r}")
    assert not bad, f"seed {seed}:\n" + "\n".join(bad)


def test_types_osp_cannot_decode_are_refused_by_name(tmp_path, tool):
    path = tmp_path / "q8_1.gguf"
    w = GGUFWriter(str(path), "llama")
    block, size = GGML_QUANT_SIZES[Q.Q8_K]
    w.add_tensor("t", np.zeros((1, size), np.uint8), raw_shape=(1, size), raw_dtype=Q.Q8_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    p = run(tool, "gguf-dump", path, tmp_path / "x.safetensors", ok=False)
    assert "Q8_K cannot be decoded by osp" in p.stderr, p.stderr
