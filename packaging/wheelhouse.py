"""An offline wheelhouse: every wheel sensorproxy needs on Windows (win_amd64) and Linux (manylinux
x86_64), for Python 3.11 and 3.12, so a laptop without internet installs with
    pip install --no-index --find-links WHEELHOUSE sensorproxy-*.whl

pip evaluates dependency markers for the machine it runs on, not for the target platform, so a run on
Linux leaves out Windows-only dependencies (keyring's pywin32-ctypes) and the other way round
(SecretStorage and jeepney). Those are named here explicitly per platform.
Run: .venv/bin/python packaging/wheelhouse.py DIR
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {
    "win_amd64": ["win_amd64"],
    # glibc 2.34+ (Debian 12, Ubuntu 22.04 and later): what PySide6 6.10+ wheels need.
    "linux_x86_64": [f"manylinux_2_{minor}_x86_64" for minor in range(17, 35)] + ["manylinux2014_x86_64"],
}
PYTHONS = ("3.11", "3.12")
# Dependencies behind a platform marker, which pip on another platform would skip.
PLATFORM_ONLY = {
    "win_amd64": ["pywin32-ctypes>=0.2.0"],
    "linux_x86_64": ["SecretStorage>=3.2", "jeepney>=0.4.2"],
}


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def commands(dest: Path) -> list[list[str]]:
    out = []
    for target, tags in PLATFORMS.items():
        for python in PYTHONS:
            cmd = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--dest", str(dest)]
            cmd += ["--python-version", python, "--implementation", "cp"]
            for tag in tags:
                cmd += ["--platform", tag]
            out.append(cmd + requirements() + PLATFORM_ONLY[target])
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    dest = Path(sys.argv[1])
    dest.mkdir(parents=True, exist_ok=True)
    for cmd in commands(dest):
        subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 1e6
    print(f"{len(wheels)} wheels ({size:.0f} MB) in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
