"""The .deb's Depends, derived from the frozen app itself: every shared library that a binary or plugin
in the one-folder app loads (ELF NEEDED) and that the app does not ship is looked up on this Debian build
machine, and the package that provides it becomes a dependency. Nothing is listed by hand, so a Qt
plugin that starts needing libEGL.so.1 brings libegl1 along.

    python3 packaging/linux/depends.py build/dist/sensorproxy   ->   libc6 (>= 2.36), libegl1, ...
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
LDCONFIG_TAGS = {"amd64": "x86-64", "arm64": "AArch64"}  # how `ldconfig -p` marks each architecture's libraries


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == ELF_MAGIC


def needed(path: Path) -> list[str]:
    out = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"^\s+NEEDED\s+(\S+)$", out, re.MULTILINE)


def system_libraries() -> dict[str, str]:
    """soname -> path, for this machine's architecture (what the dynamic linker would load)."""
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    tag = LDCONFIG_TAGS[arch]
    found: dict[str, str] = {}
    for name, flags, path in re.findall(r"^\s+(\S+) \(([^)]*)\) => (\S+)$", out, re.MULTILINE):
        if tag in flags:
            found.setdefault(name, path)
    return found


def package_of(path: str) -> str:
    """The package that owns a library file (through /usr-merge aliases and symlinks)."""
    for candidate in dict.fromkeys([path, str(Path(path).resolve()), path.replace("/lib/", "/usr/lib/", 1)]):
        proc = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return proc.stdout.split(":", 1)[0].strip()
    raise SystemExit(f"depends: no installed package provides {path}")


def depends(app: Path) -> list[str]:
    files = [p for p in app.rglob("*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    shipped = {p.name for p in app.rglob("*")}
    wanted = sorted({soname for f in files for soname in needed(f)} - shipped)
    libraries = system_libraries()
    missing = [s for s in wanted if s not in libraries]
    if missing:
        raise SystemExit(f"depends: not on this build machine, so no package can be named: {', '.join(missing)}")
    packages = sorted({package_of(libraries[s]) for s in wanted})
    libc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libc6"], capture_output=True, text=True, check=True)
    upstream = libc.stdout.split("-")[0]
    return [f"libc6 (>= {upstream})" if p == "libc6" else p for p in packages]


if __name__ == "__main__":
    print(", ".join(depends(Path(sys.argv[1]))))
