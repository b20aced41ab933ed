"""Proxy servers of other Debian releases for the lab: each a debootstrap'ed root run in its own network
namespace, with its own sshd and, once applied, its own Squid.

A release's root is made once from Debian's archive and kept as a tarball in /var/cache/sensorproxy-tests
(a second run unpacks it in seconds). Squid is not installed in it: its packages and their dependencies
wait in a local apt repository inside the root (`/srv/repo`, the root's only source), so a first apply
installs Squid with apt as on a site with its own mirror, while the namespace reaches nothing but the
lab. The server runs chrooted in a private mount namespace; killing the namespace's processes ends it.
"""

from __future__ import annotations

import hashlib
import shlex
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.lab.lab import CLOUD_HOSTS, HOSTS, Lab, sh, wait_port

CACHE = Path("/var/cache/sensorproxy-tests")
MIRROR = "http://deb.debian.org/debian"
SERVERS = {"bullseye": "sp-bullseye", "trixie": "sp-trixie"}  # release -> its namespace in HOSTS
SQUID = {"bullseye": "4.13", "trixie": "6."}  # the Squid each release ships (a version prefix)
# What every server of the lab has beyond minbase: sshd, and openssl, which a real server gets with
# ca-certificates (Squid recommends it) and `sensorproxy check` uses.
INCLUDE = "openssh-server,iproute2,procps,apt-utils,openssl"
# The root's own apt repository: Squid and what it needs, and python3, which Ansible's modules run with
# (the fleet servers install it for the export-ansible tests; the release servers leave it in the repository).
REPO = "squid python3"
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}


def chroot(root: Path, command: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root), "sh", "-c", command],
        capture_output=True, text=True, timeout=timeout, env=CHROOT_ENV, check=False,
    )  # fmt: skip


def release_root(release: str) -> Path:
    """The cached tarball of `release`'s server root, made when missing (named by what it includes, so a
    change to the list makes a new one)."""
    tag = hashlib.sha256(f"{INCLUDE} {REPO}".encode()).hexdigest()[:8]
    tarball = CACHE / f"{release}-server-{tag}.tar"
    if tarball.is_file():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob(f"{release}-server*.tar"):
        old.unlink()  # an earlier list's root
    work = CACHE / f"{release}-server.d"
    shutil.rmtree(work, ignore_errors=True)
    include = INCLUDE
    made = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={include}", release, str(work), MIRROR],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    shutil.copy("/etc/resolv.conf", work / "etc" / "resolv.conf")
    # REPO and everything it needs, as the root's own apt repository; then that is its only source.
    steps = (
        f"apt-get update -qq && apt-get install -y -qq --download-only --no-install-recommends {REPO}",
        "mkdir -p /srv/repo && mv /var/cache/apt/archives/*.deb /srv/repo/",
        "cd /srv/repo && apt-ftparchive packages . > Packages",
        "echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list",
        "rm -f /etc/apt/sources.list.d/* && apt-get clean && rm -rf /var/lib/apt/lists/*",
    )
    for step in steps:
        done = chroot(work, step)
        assert done.returncode == 0, f"{step}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    partial = tarball.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(work), "-cf", str(partial), "."], check=True, timeout=600)
    partial.rename(tarball)
    shutil.rmtree(work, ignore_errors=True)
    return tarball


@contextmanager
def release_server(lab: Lab, release: str) -> Iterator[str]:
    """`release`'s server, reachable over SSH on port 22 of its namespace's address (yielded), as root
    by the lab's client key, with the lab's host key."""
    ns = SERVERS[release]
    ip = HOSTS[ns]
    root = lab.tmp / f"{release}-root"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "-xf", str(release_root(release))], check=True, timeout=600)
    admit_lab(lab, root)
    serve(lab, ns, root, ip)
    try:
        wait_port(ip, 22)
        yield ip
    finally:
        lab.kill_namespace(ns)  # sshd, and Squid with whatever else the runs started there
        lab.kill(ns)
        sh("rm", "-rf", "--one-file-system", str(root), check=False)


def admit_lab(lab: Lab, root: Path) -> None:
    """The lab's host key and client key in `root`, and the lab's cloud in its /etc/hosts (for Squid)."""
    ssh = root / "etc" / "ssh"
    shutil.copy(lab.tmp / "host_ed25519", ssh / "lab_host_ed25519")
    (ssh / "lab_host_ed25519").chmod(0o600)
    (root / "root" / ".ssh").mkdir(mode=0o700, exist_ok=True)
    shutil.copy(lab.client_key.with_suffix(".pub"), root / "root" / ".ssh" / "authorized_keys")
    with open(root / "etc" / "hosts", "a") as hosts:
        hosts.write("".join(f"{ip} {name}\n" for name, ip in CLOUD_HOSTS.items()))


def serve(lab: Lab, ns: str, root: Path, ip: str) -> None:
    """Run `root` as a server in namespace `ns`: chrooted in a private mount namespace, with its own sshd
    on port 22 of `ip` (the lab's host key, root by key only)."""
    (root / "etc" / "ssh" / "sshd_lab").write_text(
        textwrap.dedent(f"""
        Port 22
        ListenAddress {ip}
        HostKey /etc/ssh/lab_host_ed25519
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        UsePAM no
        Subsystem sftp internal-sftp
    """)
    )
    r = shlex.quote(str(root))
    boot = (
        f"mount -t proc proc {r}/proc && mount --rbind /dev {r}/dev && mount -t tmpfs tmpfs {r}/run"
        f" && mount -t tmpfs tmpfs {r}/tmp && mkdir -p -m 0755 {r}/run/sshd"
        f" && exec chroot {r} /usr/sbin/sshd -D -e -f /etc/ssh/sshd_lab"
    )
    lab.spawn(ns, ["ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private", "sh", "-c", boot])
