"""The .deb on a machine that has nothing but a minimal Debian 12: `apt install ./sensorproxy_….deb`
must bring every library the frozen app loads (its Depends come from the app's own ELF files), and the
window must start offscreen and on a real X server (xcb). The minimal root is made by debootstrap from
Debian's archive once and kept as a tarball, so later runs unpack it in seconds."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import __version__
from tests.conftest import require, require_tool
from tests.packaging.conftest import DEB, EXAMPLE

CACHE = Path("/var/cache/sensorproxy-tests/bookworm-minbase.tar")
MIRROR = "http://deb.debian.org/debian"
DISPLAY_NUMBER = 57


def minimal_root() -> Path:
    """A debootstrap'ed bookworm (minbase), made once and cached as a tarball."""
    if not CACHE.is_file():
        debootstrap = require_tool("debootstrap")
        work = CACHE.with_suffix(".d")
        shutil.rmtree(work, ignore_errors=True)
        proc = subprocess.run([debootstrap, "--variant=minbase", "bookworm", str(work), MIRROR],
                              capture_output=True, text=True, timeout=900, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        partial = CACHE.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(work), "-cf", str(partial), "."], check=True, timeout=600)
        partial.rename(CACHE)
        shutil.rmtree(work, ignore_errors=True)
    return CACHE


def chroot(root: Path, *argv: str, env: dict[str, str] | None = None, timeout: int = 600):
    base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True, timeout=timeout,
                          env={**base, **(env or {})}, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def fresh(built, tmp_path_factory) -> Iterator[Path]:
    require(os.geteuid() == 0, "root, for debootstrap and chroot")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    root = tmp_path_factory.mktemp("fresh") / "root"
    root.mkdir()
    # tar as root keeps what a root file system needs: owners, modes, device nodes
    subprocess.run(["tar", "-C", str(root), "-xf", str(minimal_root())], check=True, timeout=600)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    mounts = [(root / "proc", ["-t", "proc", "proc"]), (root / "dev", ["--bind", "/dev"])]
    x11 = root / "tmp" / ".X11-unix"
    x11.mkdir(parents=True, exist_ok=True)
    Path("/tmp/.X11-unix").mkdir(exist_ok=True)
    mounts.append((x11, ["--bind", "/tmp/.X11-unix"]))
    for target, how in mounts:
        subprocess.run(["mount", *how, str(target)], check=True)
    try:
        yield root
    finally:
        for target, _ in reversed(mounts):
            subprocess.run(["umount", "-l", str(target)], check=False)


def test_the_deb_installs_on_a_minimal_debian_and_both_programs_run(fresh, tmp_path):
    shutil.copy(DEB, fresh / "tmp" / DEB.name)
    shutil.copy(EXAMPLE, fresh / "tmp" / EXAMPLE.name)
    update = chroot(fresh, "apt-get", "update", "-qq")
    assert update.returncode == 0, update.stderr
    install = chroot(fresh, "apt-get", "install", "-y", "-qq", "--no-install-recommends", f"/tmp/{DEB.name}")
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    cli = chroot(fresh, "/usr/bin/sensorproxy", "--version")
    assert cli.stdout.strip() == f"sensorproxy {__version__}", cli.stderr

    offscreen = chroot(fresh, "/usr/bin/sensorproxy-gui", "--self-test", f"/tmp/{EXAMPLE.name}",
                       env={"QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert offscreen.returncode == 0, offscreen.stderr
    assert "window shown, 5 sensors" in offscreen.stdout

    xvfb = subprocess.Popen([require_tool("Xvfb"), f":{DISPLAY_NUMBER}", "-nolisten", "tcp", "-screen", "0",
                             "1280x800x24"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        socket = Path(f"/tmp/.X11-unix/X{DISPLAY_NUMBER}")
        deadline = time.monotonic() + 30
        while not socket.exists() and time.monotonic() < deadline and xvfb.poll() is None:
            time.sleep(0.1)
        assert socket.exists(), "Xvfb did not start"
        on_x = chroot(fresh, "/usr/bin/sensorproxy-gui", "--self-test", f"/tmp/{EXAMPLE.name}",
                      env={"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{DISPLAY_NUMBER}"})  # fmt: skip
    finally:
        xvfb.terminate()
        xvfb.wait(30)
    assert on_x.returncode == 0, on_x.stderr
    assert "window shown, 5 sensors" in on_x.stdout
    assert "libGL" not in on_x.stderr
    assert "libEGL" not in on_x.stderr
