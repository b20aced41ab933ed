"""A real Secret Service (gnome-keyring-daemon under dbus-run-session): secrets set by one process are
read by another, and deleted; the CLI reads the secret from stdin, never argv."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from core import projectfile
from core.model import Sensor
from tests.conftest import ROOT, make_project, require_tool

SCRIPT = r"""
set -e
echo unlock-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null
py=$1; project=$2
printf 'Keyring-Secret-99\n' | "$py" -m cli credentials set "$project" proxy
"$py" -m cli credentials status "$project"
"$py" -c "import keyring; print('backend', type(keyring.get_keyring()).__module__)"
"$py" -c "import keyring; print('got', keyring.get_password('sensorproxy', 'proxy:Test Site:sensors'))"
"$py" -m cli credentials delete "$project" proxy
"$py" -c "import keyring; print('after', keyring.get_password('sensorproxy', 'proxy:Test Site:sensors'))"
"""


def test_real_secret_service_across_processes(tmp_path: Path):
    require_tool("dbus-run-session")
    require_tool("gnome-keyring-daemon")
    project = tmp_path / "p.toml"
    projectfile.save(make_project(Sensor("A", "10.0.0.1"), auth_enabled=True, auth_user="sensors"), project)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
    (tmp_path / "run").mkdir(mode=0o700)
    proc = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", SCRIPT, "sh", sys.executable, str(project)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "backend keyring.backends.SecretService" in out
    assert "stored proxy:Test Site:sensors" in out
    assert re.search(r"^\s*proxy\s+proxy:Test Site:sensors\s+stored$", out, re.MULTILINE)
    assert "got Keyring-Secret-99" in out
    assert "deleted" in out
    assert "after None" in out
    assert "Keyring-Secret-99" not in project.read_text()
