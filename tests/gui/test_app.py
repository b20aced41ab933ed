"""The `sensorproxy-gui` entry point as a real process: the self-test installers use."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


# As the installed `sensorproxy-gui` script runs it; then whether garbage collection, paused while the
# window starts, is back on.
ENTRY = """
import gc, sys
from gui.app import main
status = main(sys.argv[1:])
print(f"garbage collection on: {gc.isenabled()}")
sys.exit(status)
"""


def gui(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_self_test_opens_the_example_and_exits_cleanly(tmp_path):
    proc = gui(tmp_path, "--self-test", str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    assert "sensorproxy-gui self-test: window shown, 5 sensors" in proc.stdout
    assert "garbage collection on: True" in proc.stdout


def test_a_broken_project_is_reported_with_its_line(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('schema = 1\nsite = "x"\n[ssh\n')
    proc = gui(tmp_path, "--self-test", str(broken))
    assert proc.returncode == 1
    assert "broken.toml" in proc.stderr
    assert "line 3" in proc.stderr
    assert "garbage collection on: True" in proc.stdout
