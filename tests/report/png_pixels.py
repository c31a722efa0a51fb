"""A minimal PNG reader (8-bit grey/RGB/RGBA, non-interlaced) with zlib, struct and numpy, so the
rendering test needs no imaging library."""
import struct
import zlib

import numpy as np

_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> channels


def _unfilter(raw, kinds, width, bpp):
    """Undoes the per-row filters. Pixel (y, x) depends on its left (a), upper (b) and upper-left
    (c) neighbours only, so all pixels on one anti-diagonal y + x = d can be decoded together:
    about width + height vectorised steps instead of a Python loop over every byte."""
    height = raw.shape[0]
    pix = raw.reshape(height, width, bpp).astype(np.int32)
    out = np.zeros((height + 1, width + 1, bpp), np.int32)  # row 0 and column 0: PNG's zero border
    for d in range(height + width - 1):
        ys = np.arange(max(0, d - width + 1), min(height - 1, d) + 1)
        xs = d - ys
        a, b, c = out[ys + 1, xs], out[ys, xs + 1], out[ys, xs]
        p = a + b - c
        pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
        paeth = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))
        k = kinds[ys][:, None]
        pred = np.select([k == 1, k == 2, k == 3, k == 4], [a, b, (a + b) // 2, paeth], 0)
        out[ys + 1, xs + 1] = (pix[ys, xs] + pred) & 0xFF
    return out[1:, 1:].astype(np.uint8)


def read_png(path):
    """Returns the image as a uint8 array of shape (height, width, channels)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path}: not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
    bpp = _CHANNELS[colour]
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    kinds = raw[:, 0].astype(np.int32)
    if kinds.max(initial=0) > 4:
        raise ValueError(f"{path}: unknown row filter {kinds.max()}")
    return _unfilter(raw[:, 1:], kinds, width, bpp)
