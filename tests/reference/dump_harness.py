"""Running the C++ side of the reference tests: where the build is, what a missing executable
means, and one run of a dump tool (`TOOL --config JSON --seed N --out FILE`) loaded as numpy.

A missing executable FAILS the test, unless OSP_REF_ALLOW_MISSING=1 (then it skips).
"""
import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from safetensors.numpy import load_file


def build_dir():
    """$OSP_BUILD_DIR (ctest sets it), else the repository's build/."""
    return Path(os.environ.get("OSP_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))


def require(relative):
    """The path of a built executable under the build folder, or fail/skip with a message."""
    exe = build_dir() / relative
    if not exe.is_file():
        msg = (f"{exe} is missing: build it (cmake --build build) or set OSP_BUILD_DIR; "
               "OSP_REF_ALLOW_MISSING=1 skips these cases instead")
        if os.environ.get("OSP_REF_ALLOW_MISSING") == "1":
            pytest.skip(msg)
        pytest.fail(msg)
    return exe


def run_dump(tool, config, seed, loader=load_file):
    """Runs tests/reference/<tool> on a JSON config and returns its safetensors file as loaded by
    `loader` (numpy by default; pass safetensors.torch.load_file for torch tensors)."""
    exe = require(Path("tests") / "reference" / tool)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dump.safetensors"
        cmd = [str(exe), "--config", json.dumps(config), "--seed", str(seed), "--out", str(out)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if res.returncode != 0 or not out.is_file():
            pytest.fail(f"{' '.join(cmd)} exited {res.returncode}\n{res.stdout}\n{res.stderr}")
        return loader(str(out))
