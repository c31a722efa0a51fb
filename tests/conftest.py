"""Fixtures shared by every pytest directory under tests/."""
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def osp_bin():
    """The built osp binary: $OSP_BUILD_DIR/osp (ctest sets it), else the repository's build/."""
    build = Path(os.environ.get("OSP_BUILD_DIR", Path(__file__).resolve().parents[1] / "build"))
    path = build / "osp"
    assert path.exists(), f"{path} is missing: build the osp target first"
    return str(path)
