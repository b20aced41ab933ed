"""The wheel: `pip install sensorproxy` is safe beside any other distribution. Its packages live under the
one name `sensorproxy`, so another distribution that ships a top-level `core` keeps it, and sensorproxy
still works from its own files (package data included). Built and installed offline, from this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import ROOT

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def pip(*args: str, cwd: Path = ROOT) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_wheel_installs_beside_another_core_and_both_keep_their_own(tmp_path):
    wheels = tmp_path / "wheels"
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), ".")
    other = tmp_path / "othercore"
    (other / "core").mkdir(parents=True)
    (other / "core" / "__init__.py").write_text('WHOSE = "othercore"\n')
    (other / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "othercore"\nversion = "1.0"\n[tool.setuptools]\npackages = ["core"]\n'
    )
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(wheels), ".", cwd=other)

    # A fresh environment that sees this one's libraries (PySide6, paramiko …) but not its sensorproxy.
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())  # fmt: skip
    (site / "libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = sorted(wheels.glob("*.whl"))
    assert [w.name.split("-")[0] for w in installed] == ["othercore", "sensorproxy"]
    pip("--python", str(python), "install", "--no-deps", "--no-index", *map(str, installed))

    assert (site / "core" / "__init__.py").read_text() == 'WHOSE = "othercore"\n'
    assert sorted(p.name for p in site.iterdir() if p.name in {"core", "gui", "cli", "sensorproxy"}) == [
        "core", "sensorproxy"
    ]  # fmt: skip
    run_env = {**os.environ, "SENSORPROXY_PROXY_PASSWORD": "Kit-pass-1", "QT_QPA_PLATFORM": "offscreen"}
    whose = subprocess.run([python, "-c", "import core; print(core.WHOSE)"], capture_output=True, text=True,
                           cwd=tmp_path, check=True)  # fmt: skip
    assert whose.stdout == "othercore\n"
    # sensorproxy's command, from its own files: the stock squid.conf and the server scripts are package data.
    command = env_dir / "bin" / "sensorproxy"
    rendered = subprocess.run([command, "render", str(EXAMPLE)], capture_output=True, text=True, env=run_env,
                              cwd=tmp_path, check=False)  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    assert "http_access allow sensorproxy_sensors" in rendered.stdout
    kit = tmp_path / "kit.zip"
    made = subprocess.run([command, "kit", str(EXAMPLE), str(kit)], capture_output=True, text=True, env=run_env,
                          cwd=tmp_path, check=False)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert kit.stat().st_size > 1000
