"""The Linux packages, built once per test run by packaging/build."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core import __version__
from tests.conftest import ROOT, require_tool

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"
DIST = ROOT / "build" / "dist" / "sensorproxy"
DEB = ROOT / "build" / f"sensorproxy_{__version__}_amd64.deb"


@pytest.fixture(scope="session")
def built() -> Path:
    require_tool("dpkg-deb")
    require_tool("objdump")
    proc = subprocess.run([str(ROOT / "packaging" / "build")], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return DIST
