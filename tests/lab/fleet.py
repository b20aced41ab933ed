"""Many proxy servers at once, for multi-site runs: each an overlay of one release root with Squid
installed, run chrooted in its own network namespace on the lab's bridge with its own sshd (and, once
applied, its own Squid). The root is unpacked and Squid installed into it once; a server is then an empty
upper layer, so twenty of them take seconds and a few megabytes each."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from core import projectfile
from core.model import Project
from tests.lab.lab import BRIDGE, LAB_NET, Lab, lab_ip, sh, wait_port
from tests.lab.releases import REPO, admit_lab, chroot, release_root, serve

FIRST = 150  # fleet server n has the lab address .(FIRST + n)
MOST = 40


def namespace(n: int) -> str:
    return f"sp-fleet{n}"


def _lower(lab: Lab, release: str) -> Path:
    """The release's root with Squid (not started: policy-rc.d) and python3 installed from its own /srv/repo."""
    lower = lab.tmp / f"fleet-{release}-lower"
    if (lower / "usr" / "sbin" / "squid").exists():
        return lower
    shutil.rmtree(lower, ignore_errors=True)
    lower.mkdir()
    subprocess.run(["tar", "-C", str(lower), "-xf", str(release_root(release))], check=True, timeout=600)
    (lower / "usr" / "sbin" / "policy-rc.d").write_text("#!/bin/sh\nexit 101\n")
    (lower / "usr" / "sbin" / "policy-rc.d").chmod(0o755)
    done = chroot(lower, f"apt-get update -qq && apt-get install -y -qq --no-install-recommends {REPO}")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (lower / "usr" / "sbin" / "policy-rc.d").unlink()
    admit_lab(lab, lower)
    return lower


def site_file(path: Path, project: Project, ip: str) -> Path:
    """`project` pointed at the fleet server `ip`, saved at `path`."""
    projectfile.save(replace(project, ssh=replace(project.ssh, host=ip, port=22)), path)
    return path


def trust(lab: Lab, addresses: list[str]) -> list[str]:
    """--accept-host-key HOST=SHA256:… for each server: every fleet server shows the lab's host key."""
    fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    return [arg for ip in addresses for arg in ("--accept-host-key", f"{ip}={fingerprint}")]


@contextmanager
def fleet(lab: Lab, count: int, release: str = "trixie") -> Iterator[list[str]]:
    """`count` servers of `release`, reachable over SSH on port 22 of the yielded addresses, as root by
    the lab's client key, with the lab's host key; Squid installed and stopped, no sensorproxy rules."""
    assert 1 <= count <= MOST
    lower = _lower(lab, release)
    started: list[int] = []
    try:
        for n in range(1, count + 1):
            started.append(n)
            _start(lab, lower, n)
        addresses = [lab_ip(FIRST + n) for n in started]
        for ip in addresses:
            wait_port(ip, 22)
        yield addresses
    finally:
        for n in started:
            _stop(lab, n)


def _start(lab: Lab, lower: Path, n: int) -> None:
    ns, ip = namespace(n), lab_ip(FIRST + n)
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", f"{ns}-h", "type", "veth", "peer", "name", "eth0", "netns", ns)
    sh("ip", "link", "set", f"{ns}-h", "master", BRIDGE, "up")
    sh("ip", "-n", ns, "addr", "add", f"{ip}/{LAB_NET.prefixlen}", "dev", "eth0")
    sh("ip", "-n", ns, "link", "set", "eth0", "up")
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    layer = lab.tmp / "fleet" / str(n)
    for part in ("upper", "work", "root"):
        (layer / part).mkdir(parents=True, exist_ok=True)
    sh("mount", "-t", "overlay", "overlay", "-o",
       f"lowerdir={lower},upperdir={layer / 'upper'},workdir={layer / 'work'}", str(layer / "root"))  # fmt: skip
    serve(lab, ns, layer / "root", ip)


def _stop(lab: Lab, n: int) -> None:
    ns = namespace(n)
    for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    lab.kill(ns)
    sh("ip", "netns", "delete", ns, check=False)
    # Whoever talked to this server remembers its MAC: the next server at this address has another one.
    address = lab_ip(FIRST + n)
    sh("ip", "neigh", "flush", "to", address, check=False)
    sh("ip", "-all", "netns", "exec", "ip", "neigh", "flush", "to", address, check=False)
    layer = lab.tmp / "fleet" / str(n)
    sh("umount", "-l", str(layer / "root"), check=False)
    sh("rm", "-rf", "--one-file-system", str(layer), check=False)
