"""Fixtures of the real-model tests: the osp binary and SmolLM2-135M-Instruct Q4_1 (fetched into
.fixtures/ by scripts/fetch-fixtures; the tests skip without it)."""
import os
import subprocess
from pathlib import Path

import pytest

SMOLLM2 = Path(__file__).resolve().parents[3] / ".fixtures" / "smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
# Natural English text present on every Debian machine.
TEXT = Path("/usr/share/common-licenses/GPL-3")


@pytest.fixture(scope="session")
def osp_bin():
    build = os.environ.get("OSP_BUILD_DIR")
    if not build:
        pytest.skip("OSP_BUILD_DIR is not set (run through ctest)")
    p = Path(build) / "osp"
    assert p.exists(), f"{p} is missing: build the osp target"
    return p


@pytest.fixture(scope="session")
def smollm2():
    if not SMOLLM2.exists():
        pytest.skip(f"{SMOLLM2} is missing: run scripts/fetch-fixtures")
    return SMOLLM2


def run(*args, ok=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                       env={**os.environ, "OMP_WAIT_POLICY": "passive"})
    assert (p.returncode == 0) == ok, f"{args}: rc={p.returncode}\n{p.stdout}\n{p.stderr}"
    return p
