"""Faults at every step of apply: the SSH connection cut (a relay in front of sshd drops it) and the
app's process killed (SIGKILL to the CLI). Afterwards the server's config parses, Squid serves the old or
the new rules (curl says which, and it matches the files), no temporary file is left, and the next apply
converges. Also: a full filesystem, a held dpkg lock, no reachable repository, a taken port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core import projectfile, squid
from core.model import Project
from core.remote import setup
from core.remote.errors import CommandFailed, RemoteError, RepositoryUnreachable, ValidationFailed, VerifyFailed
from core.remote.events import TITLES, Status, StepEvent
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.remote.shell import CHANGE_LOCK
from tests.conftest import FIGURES, ROOT
from tests.lab.lab import HOSTS, SERVER_IP, SSH_PORT, Lab, Relay, sh
from tests.lab.test_apply import ALLOWED, DENIED, codes

pytestmark = pytest.mark.lab
LAYOUT = squid.SquidLayout()
# Every step of a changing apply on a server where Squid is installed and running. "install" is cut on
# its own below, because it needs Squid purged first.
STEPS = ["connect", "preflight", "backup", "write", "validate", "enable", "activate", "verify"]


def apply_directly(lab: Lab, known: KnownHosts, project) -> setup.Outcome:
    with lab.session(known) as session:
        return setup.apply(project, session, {})


def wait_until_changes_end(timeout: float = 120) -> None:
    """A cut connection does not stop the server's transaction or install: wait for them to finish."""
    deadline = time.monotonic() + timeout
    while subprocess.run(["flock", "-n", CHANGE_LOCK, "true"], check=False).returncode != 0:
        assert time.monotonic() < deadline, "the server-side change did not end"
        time.sleep(0.1)


def stray_files() -> list[Path]:
    return [*Path("/etc/squid").glob(".sensorproxy-tmp.*"), *Path("/etc/squid/conf.d").glob(".sensorproxy-tmp.*")]


def assert_server_consistent(lab: Lab) -> None:
    parsed = subprocess.run(["squid", "-k", "parse"], capture_output=True, text=True, check=False)
    assert parsed.returncode == 0, parsed.stderr[-2000:]
    assert lab.squid_pid() is not None, "Squid is not running"
    assert not stray_files()
    sensor_list = Path(LAYOUT.sensors_file).read_text()
    assert codes(lab.curl("sp-s1")) == ALLOWED  # in the old and in the new rules
    expected = ALLOWED if f"\n{HOSTS['sp-s2']}/32 # sensor " in sensor_list else DENIED
    assert codes(lab.curl("sp-s2")) == expected  # whichever rules are on disk are the ones served


def disable_at_boot() -> None:
    sh("update-rc.d", "squid", "disable")


def converge(lab: Lab, known: KnownHosts, project) -> None:
    apply_directly(lab, known, project)
    assert codes(lab.curl("sp-s2")) == ALLOWED
    assert not apply_directly(lab, known, project).changed


def old_rules_applied(lab: Lab, known: KnownHosts, step: str) -> Project:
    """The server serves the old rules (sensor 1 only); returns the project with the new ones (1 and 2)."""
    apply_directly(lab, known, lab.project("sp-s1"))
    if step == "enable":
        disable_at_boot()
    return lab.project("sp-s1", "sp-s2")


@pytest.mark.parametrize("step", STEPS)
def test_connection_cut_at_each_step(lab: Lab, known_hosts: KnownHosts, tmp_path: Path, step: str):
    new = old_rules_applied(lab, known_hosts, step)
    relay = Relay(SERVER_IP, SSH_PORT)
    known = lab.pinned(tmp_path / "relay_known_hosts", "127.0.0.1", relay.port)
    target = replace(new.ssh, host="127.0.0.1", port=relay.port)
    seen: list[str] = []

    def emit(event) -> None:
        if isinstance(event, StepEvent) and event.step == step and event.status is Status.RUNNING:
            seen.append(step)
            relay.cut()

    FIGURES["faults injected"] += 1
    session = SshSession(target, known, {})  # apply connects: the connect step can be cut too
    try:
        setup.apply(replace(new, ssh=target), session, {}, emit=emit)
    except RemoteError:
        pass  # the app reports the lost connection; what matters is the server
    finally:
        session.close()
        relay.close()
    assert seen == [step], f"the {step} step never started"
    wait_until_changes_end()
    assert_server_consistent(lab)
    converge(lab, known_hosts, new)
    FIGURES["faults survived"] += 1


@pytest.mark.parametrize("step", STEPS)
def test_app_killed_at_each_step(lab: Lab, known_hosts: KnownHosts, tmp_path: Path, step: str):
    new = old_rules_applied(lab, known_hosts, step)
    path = tmp_path / "new.toml"
    projectfile.save(new, path)
    config = tmp_path / "config"
    lab.pinned(config / "known_hosts")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SENSORPROXY_CONFIG_DIR": str(config),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PYTHONUNBUFFERED": "1"}  # fmt: skip
    FIGURES["faults injected"] += 1
    killed = False
    with subprocess.Popen(
        [sys.executable, "-m", "cli", "apply", str(path), "--yes"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == f"... {TITLES[step]}":
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
        proc.wait(timeout=60)
    assert killed, f"the CLI never printed the {step} step"
    assert proc.returncode == -signal.SIGKILL
    wait_until_changes_end()
    assert_server_consistent(lab)
    converge(lab, known_hosts, new)
    FIGURES["faults survived"] += 1


def test_connection_cut_during_install_lets_apt_finish(lab: Lab, known_hosts: KnownHosts, tmp_path: Path):
    lab.stop_squid()
    sh("apt-get", "purge", "-y", "-q", "squid", timeout=300)
    relay = Relay(SERVER_IP, SSH_PORT)
    known = lab.pinned(tmp_path / "relay_known_hosts", "127.0.0.1", relay.port)
    project = lab.project("sp-s1", "sp-s2")
    target = replace(project.ssh, host="127.0.0.1", port=relay.port)

    def emit(event) -> None:  # cut once apt has started talking
        if getattr(event, "step", "") == "install" and not isinstance(event, StepEvent):
            relay.cut()

    FIGURES["faults injected"] += 1
    with pytest.raises(RemoteError), SshSession(target, known, {}) as session:
        setup.apply(replace(project, ssh=target), session, {}, emit=emit)
    relay.close()
    wait_until_changes_end(timeout=600)
    audit = subprocess.run(["dpkg", "--audit"], capture_output=True, text=True, check=False)
    assert audit.stdout.strip() == "", audit.stdout  # no package left half-installed
    assert Path("/usr/sbin/squid").exists()
    converge(lab, known_hosts, project)
    FIGURES["faults survived"] += 1


def test_full_filesystem_rolls_back_and_keeps_the_old_rules(lab: Lab, known_hosts: KnownHosts):
    old = lab.project("sp-s1")
    apply_directly(lab, known_hosts, old)
    conf_d = Path("/etc/squid/conf.d")  # its own tiny filesystem, filled up; /etc/squid keeps room to pass preflight
    saved = {p.name: p.read_bytes() for p in conf_d.iterdir() if p.is_file()}
    sh("mount", "-t", "tmpfs", "-o", "size=64k", "sp-full", str(conf_d))
    try:
        for name, data in saved.items():
            (conf_d / name).write_bytes(data)
        with open(conf_d / "filler", "wb", buffering=0) as filler:
            while filler.write(b"x" * 4096) == 4096 and os.fstatvfs(filler.fileno()).f_bavail:
                pass
        assert os.statvfs(conf_d).f_bavail == 0
        many = replace(old, sensors=old.sensors + tuple(replace(old.sensors[0], name=f"Extra {i}",
                                                                    address=f"10.99.{i // 250}.{i % 250 + 1}")
                                                            for i in range(3000)))  # fmt: skip
        FIGURES["faults injected"] += 1
        # what failed, in words, with the server's own error (not a bare "changing the server failed")
        with pytest.raises(CommandFailed, match=r"writing the new files failed \(exit 21\): .*No space left on device"):
            apply_directly(lab, known_hosts, many)
        assert_server_consistent(lab)
        assert "Extra%201" not in Path(LAYOUT.sensors_file).read_text()
        FIGURES["faults survived"] += 1
    finally:
        subprocess.run(["umount", str(conf_d)], check=False)


def test_held_dpkg_lock_waits_then_fails_clearly(lab: Lab, known_hosts: KnownHosts):
    lab.stop_squid()
    sh("apt-get", "purge", "-y", "-q", "squid", timeout=300)
    hold = (
        "import fcntl, time; f = open('/var/lib/dpkg/lock-frontend', 'w'); "
        "fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)"
    )  # apt's locks are fcntl locks, not flock ones
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        FIGURES["faults injected"] += 1
        start = time.monotonic()
        with lab.session(known_hosts) as session, pytest.raises(CommandFailed) as failed:
            setup.apply(lab.project("sp-s1"), session, {}, dpkg_timeout=3)
        waited = time.monotonic() - start
        assert "apt-get" in str(failed.value)
        assert "lock" in str(failed.value).lower()
        assert waited >= 3  # it waited for the lock before it gave up
        assert not Path("/usr/sbin/squid").exists()  # nothing half-installed
        FIGURES["faults survived"] += 1
    finally:
        holder.kill()
        holder.communicate()
    sh("apt-get", "install", "-y", "-q", "squid", timeout=600)


def test_unreachable_repository_is_a_clear_error_and_changes_nothing(lab: Lab, known_hosts: KnownHosts):
    lab.stop_squid()
    sh("apt-get", "purge", "-y", "-q", "squid", timeout=300)
    sh("apt-get", "clean")  # with Squid's .deb still in apt's cache, the install would need no network
    before = {p: p.read_bytes() for p in Path("/etc/squid").rglob("*") if p.is_file()}
    lab.start_sshd("offline-faults", 2224, lab.tmp / "host_ed25519", netns="sp-offline")
    try:
        target = replace(lab.target(), host=HOSTS["sp-offline"], port=2224)
        fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
        FIGURES["faults injected"] += 1
        with (
            SshSession(target, known_hosts, {}, accept_fingerprint=fp) as session,
            pytest.raises(RepositoryUnreachable) as failed,
        ):
            setup.apply(replace(lab.project("sp-s1"), ssh=target), session, {})
        assert str(failed.value) == (
            f"the bookworm server {HOSTS['sp-offline']} cannot reach its package repository "
            "(the mirror's name does not resolve): make a bundle with `sensorproxy bundle --release bookworm` "
            "and apply with `--bundle`"
        )
        assert not Path("/usr/sbin/squid").exists()
        assert {p: p.read_bytes() for p in Path("/etc/squid").rglob("*") if p.is_file()} == before
        FIGURES["faults survived"] += 1
    finally:
        lab.kill("offline-faults")
        lab.kill_namespace("sp-offline")
    sh("apt-get", "install", "-y", "-q", "squid", timeout=600)


def test_taken_port_is_rolled_back(lab: Lab, known_hosts: KnownHosts):
    old = lab.project("sp-s1")
    apply_directly(lab, known_hosts, old)
    blocker = subprocess.Popen([sys.executable, "-c", "import socket,time; s=socket.socket(); "
                                "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                                "s.bind(('0.0.0.0', 3140)); s.listen(); time.sleep(60)"])  # fmt: skip
    try:
        time.sleep(0.5)
        FIGURES["faults injected"] += 1
        with pytest.raises((VerifyFailed, ValidationFailed)):
            apply_directly(lab, known_hosts, lab.project("sp-s1", "sp-s2", port=3140))
        assert_server_consistent(lab)
        assert "3140" not in Path(LAYOUT.dropin).read_text()
        FIGURES["faults survived"] += 1
    finally:
        blocker.kill()
        blocker.wait()
