"""The offline wheelhouse downloads, per platform, the dependencies pip on another platform would skip."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("wheelhouse", ROOT / "packaging" / "wheelhouse.py")
assert spec is not None
assert spec.loader is not None
wheelhouse = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wheelhouse)


def test_each_platform_and_python_gets_its_own_marker_only_dependencies():
    commands = wheelhouse.commands(Path("/tmp/wh"))
    assert len(commands) == 4  # win_amd64 and manylinux x86_64, Python 3.11 and 3.12
    windows = [c for c in commands if "win_amd64" in c]
    linux = [c for c in commands if "manylinux_2_34_x86_64" in c]
    assert len(windows) == len(linux) == 2
    assert all("pywin32-ctypes>=0.2.0" in c for c in windows)
    assert all("SecretStorage>=3.2" in c and "pywin32-ctypes>=0.2.0" not in c for c in linux)
    assert {c[c.index("--python-version") + 1] for c in commands} == {"3.11", "3.12"}
    for c in commands:
        assert "--only-binary=:all:" in c
        assert any(r.startswith("PySide6-Essentials") for r in c)
