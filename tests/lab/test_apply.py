"""Apply real projects to the lab's server over SSH, and prove the result with curl from the sensors.

The tests run in file order and build on each other's server state only where they say so; each
applies the project it needs first.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from core import squid
from core.model import AuthMethod, ParentProxy, ProxySettings
from core.remote import setup
from core.remote.errors import (
    Cancelled,
    HostKeyChanged,
    HostKeyUnknown,
    PasswordRefused,
    SecretNeeded,
    ServerLocked,
    SudoFailed,
    SudoPasswordRefused,
    ValidationFailed,
    VerifyFailed,
)
from core.remote.events import AFTER_INSTALL, NOT_CANCELLED, CancelNote, Status, StepEvent
from core.remote.session import SshSession
from core.secret_kind import Kind
from tests.lab.lab import HOSTS, SSH_PORT, SUDO_PASSWORD, SUDO_USER, Lab

pytestmark = pytest.mark.lab

ALLOWED, DENIED, AUTH = (200, 200), (403, 0), (407, 0)


def apply(lab: Lab, known, project, passwords: dict[Kind, str] | None = None, **kw):
    events: list = []
    emit = kw.pop("emit", events.append)
    session = lab.session(known, project.ssh.user, sudo_password=kw.pop("sudo_password", None))
    try:
        outcome = setup.apply(project, session, passwords or {}, emit=emit, **kw)
    finally:
        session.close()
    return outcome, events, session


def codes(result: tuple[int, int, str]) -> tuple[int, int]:
    return result[0], result[1]


def managed_files() -> dict[str, str | None]:
    """The rules and the sensor list as they are on the server now (None: not there)."""
    layout = squid.SquidLayout()
    return {p: Path(p).read_text() if Path(p).exists() else None for p in (layout.dropin, layout.sensors_file)}


def final_status(events: list, step: str) -> Status:
    return [e for e in events if isinstance(e, StepEvent) and e.step == step][-1].status


def test_first_apply_installs_squid_and_only_listed_sensors_tunnel(lab, known_hosts):
    subprocess.run(
        ["apt-get", "purge", "-y", "-q", "squid"],
        check=True,
        capture_output=True,
        timeout=300,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    assert not Path("/usr/sbin/squid").exists()

    # Cancel pressed while apt runs: the install is not stopped half-way, and the run stops right after it.
    seen: list = []
    during_install = lambda: CancelNote(AFTER_INSTALL) in seen  # noqa: E731
    before = managed_files()  # a purge leaves files no package owns
    with pytest.raises(Cancelled, match=r"^cancelled after Squid was installed; its configuration was not changed$"):
        apply(lab, known_hosts, lab.project("sp-s1", "sp-s2"), emit=seen.append, cancel=during_install)
    assert [e.text for e in seen if isinstance(e, CancelNote)] == [AFTER_INSTALL, ""]
    assert final_status(seen, "install") is Status.CHANGED
    assert Path("/usr/sbin/squid").exists()
    assert managed_files() == before

    outcome, events, _ = apply(lab, known_hosts, lab.project("sp-s1", "sp-s2"))

    assert outcome.changed
    assert [e.text for e in events if isinstance(e, CancelNote)] == [NOT_CANCELLED]  # the transaction began
    write = [e for e in events if isinstance(e, StepEvent) and e.step == "write"][-1]
    assert f"\n+{HOSTS['sp-s2']}/32 # sensor " in write.diff
    assert final_status(events, "verify") is Status.CHANGED
    assert Path("/etc/squid/squid.conf.factory").exists()
    assert codes(lab.curl("sp-s1")) == ALLOWED
    assert lab.curl("sp-s1")[2] == "azure-ok hub.azure-devices.net"
    assert codes(lab.curl("sp-s2")) == ALLOWED
    assert codes(lab.curl("sp-s3")) == DENIED


def test_unchanged_reapply_changes_and_reloads_nothing(lab, known_hosts):
    project = lab.project("sp-s1", "sp-s2")
    apply(lab, known_hosts, lab.project("sp-s1"))
    outcome, _, session = apply(lab, known_hosts, project)
    assert outcome.changed
    assert len(session.commands) == 1  # one SSH exec: the lock's command probes, then runs the change
    pid = lab.squid_pid()
    mtimes = [Path(p).stat().st_mtime_ns for p in managed_files()]

    outcome, events, session = apply(lab, known_hosts, project)

    assert not outcome.changed
    assert outcome.backup_set is None
    assert {e.step: e.status for e in events if isinstance(e, StepEvent)} == {
        "connect": Status.UNCHANGED,
        "preflight": Status.UNCHANGED,
        "install": Status.UNCHANGED,
        "backup": Status.UNCHANGED,
        "write": Status.UNCHANGED,
        "validate": Status.UNCHANGED,
        "enable": Status.UNCHANGED,
        "activate": Status.UNCHANGED,
        "verify": Status.UNCHANGED,
    }
    assert lab.squid_pid() == pid
    assert [Path(p).stat().st_mtime_ns for p in managed_files()] == mtimes
    assert not any("reconfigure" in c for c in session.commands)
    assert len(session.commands) == 1


def test_a_login_that_is_not_root_needs_sudo_turned_on(lab, known_hosts):
    project = lab.project("sp-s1", user=SUDO_USER)
    project = replace(project, ssh=replace(project.ssh, sudo=False))
    before = managed_files()
    fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    with (
        SshSession(project.ssh, known_hosts, {}, accept_fingerprint=fp) as session,
        pytest.raises(SudoFailed, match=f"{SUDO_USER} is not root; turn on 'use sudo' for this server"),
    ):
        setup.apply(project, session, {})
    assert managed_files() == before  # nothing changed on the server


def test_destination_outside_the_allowlist_is_refused(lab, known_hosts):
    apply(lab, known_hosts, lab.project("sp-s1"))
    assert codes(lab.curl("sp-s1", "https://blocked.example.net/")) == DENIED
    apply(lab, known_hosts, lab.project("sp-s1", allowlist=(*ProxySettings().allowlist, "blocked.example.net")))
    assert codes(lab.curl("sp-s1", "https://blocked.example.net/")) == ALLOWED


def test_proxy_authentication(lab, known_hosts):
    project = lab.project("sp-s1", auth_enabled=True, auth_user="sensors")
    outcome, _, session = apply(lab, known_hosts, project, {Kind.PROXY: "Right-pass-42"})
    assert outcome.changed
    passwd = Path(squid.SquidLayout().passwd_file)
    assert passwd.stat().st_mode & 0o777 == 0o640
    assert passwd.group() == "proxy"
    assert "Right-pass-42" not in passwd.read_text()
    assert not any("Right-pass-42" in c for c in session.commands)

    assert codes(lab.curl("sp-s1")) == AUTH
    assert codes(lab.curl("sp-s1", credentials="sensors:wrong")) == AUTH
    assert codes(lab.curl("sp-s1", credentials="sensors:Right-pass-42")) == ALLOWED
    assert codes(lab.curl("sp-s3", credentials="sensors:Right-pass-42")) == DENIED

    # The same password again keeps the same hash: nothing changes, nothing reloads.
    outcome, _, _ = apply(lab, known_hosts, project, {Kind.PROXY: "Right-pass-42"})
    assert not outcome.changed


def test_upstream_parent_proxy(lab, known_hosts):
    access_log = lab.start_parent_squid()
    try:
        project = lab.project("sp-s1", parent=ParentProxy(HOSTS["sp-parent"], 3128))
        apply(lab, known_hosts, project)
        assert codes(lab.curl("sp-s1")) == ALLOWED
        assert "CONNECT hub.azure-devices.net:443" in access_log.read_text()
    finally:
        lab.kill("parent-squid")


def test_config_squid_rejects_is_rolled_back_and_old_rules_keep_serving(lab, known_hosts, monkeypatch):
    good = lab.project("sp-s1")
    apply(lab, known_hosts, good)
    before = managed_files()
    pid = lab.squid_pid()

    # Test-only seam: a rule Squid refuses, injected below user input.
    real = squid.render_rules
    monkeypatch.setattr(squid, "render_rules", lambda *a, **k: real(*a, **k) + "acl broken src 10.0.0.300\n")
    with pytest.raises(ValidationFailed) as info:
        apply(lab, known_hosts, lab.project("sp-s1", "sp-s2"))

    assert any("10.0.0.300" in line for line in info.value.errors)
    assert managed_files() == before
    assert lab.squid_pid() == pid
    assert codes(lab.curl("sp-s1")) == ALLOWED
    assert codes(lab.curl("sp-s2")) == DENIED
    assert not list(Path("/etc/squid").glob("**/.sensorproxy-tmp.*"))


def test_sudo_user_with_the_right_password(lab, known_hosts):
    outcome, _, session = apply(lab, known_hosts, lab.project("sp-s2", user=SUDO_USER), sudo_password=SUDO_PASSWORD)
    assert outcome.changed
    assert codes(lab.curl("sp-s2")) == ALLOWED
    assert codes(lab.curl("sp-s1")) == DENIED
    assert all(SUDO_PASSWORD not in c for c in session.commands)
    assert any(c.startswith("sudo -S -p ''") for c in session.commands)


def test_sudo_user_with_a_wrong_password_fails_quickly(lab, known_hosts):
    session = lab.session(known_hosts, SUDO_USER, sudo_password="not-the-password")
    errors: list[BaseException] = []

    def connect() -> None:
        try:
            session.connect()
        except BaseException as exc:
            errors.append(exc)
        finally:
            session.close()

    worker = threading.Thread(target=connect)
    worker.start()
    worker.join(timeout=60)  # a guard against a hang, not a timing assertion
    assert not worker.is_alive(), "sudo with a wrong password hung"
    assert len(errors) == 1
    assert isinstance(errors[0], SudoPasswordRefused)
    assert "refused that password for" in str(errors[0])
    assert "not-the-password" not in str(errors[0])


def test_unknown_host_key_is_refused_until_accepted_by_fingerprint(lab, known_hosts):
    fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    keygen = subprocess.run(
        ["ssh-keygen", "-lf", str(lab.tmp / "host_ed25519.pub")], capture_output=True, text=True, check=True
    ).stdout
    assert fp in keygen

    with pytest.raises(HostKeyUnknown) as info:
        SshSession(lab.target(), known_hosts).connect()
    assert (info.value.fingerprint, info.value.key_type) == (fp, "ssh-ed25519")
    assert not known_hosts.app_file.exists()

    with pytest.raises(HostKeyUnknown):
        SshSession(lab.target(), known_hosts, accept_fingerprint="SHA256:" + "A" * 43).connect()

    with SshSession(lab.target(), known_hosts, accept_fingerprint=fp) as session:
        assert session.is_root
    assert known_hosts.app_file.exists()
    with SshSession(lab.target(), known_hosts) as session:  # pinned now: no fingerprint needed
        assert session.is_root


def test_changed_host_key_is_refused(lab, known_hosts):
    port = SSH_PORT + 1
    lab.start_sshd("sshd-b", port, lab.tmp / "host2_ed25519")
    try:
        first = lab.fingerprint(lab.tmp / "host2_ed25519.pub")
        with SshSession(lab.target(port=port), known_hosts, accept_fingerprint=first):
            pass
        lab.kill("sshd-b")
        lab.start_sshd("sshd-b", port, lab.tmp / "host3_ed25519")
        second = lab.fingerprint(lab.tmp / "host3_ed25519.pub")
        for accept in (None, second):  # even "accepting" the new key does not replace a pinned one
            with pytest.raises(HostKeyChanged) as info:
                SshSession(lab.target(port=port), known_hosts, accept_fingerprint=accept).connect()
            assert info.value.fingerprint == second
            assert info.value.expected == first
        assert second.split(":")[1] not in known_hosts.app_file.read_text()
    finally:
        lab.kill("sshd-b")


def test_concurrent_apply_is_refused_with_who_holds_the_lock(lab, known_hosts):
    holder = lab.session(known_hosts)
    holder.connect()
    try:
        with setup.server_lock(holder, squid.SquidLayout()), pytest.raises(ServerLocked) as info:
            apply(lab, known_hosts, lab.project("sp-s1", "sp-s3"))
        assert "(pid " in str(info.value)
        assert " since " in str(info.value)
    finally:
        holder.close()
    assert codes(lab.curl("sp-s3")) == DENIED
    # The lock went with the holder's session.
    outcome, _, _ = apply(lab, known_hosts, lab.project("sp-s1", "sp-s3"))
    assert outcome.changed


def test_rollback_and_remove_restore_previous_behaviour(lab, known_hosts):
    apply(lab, known_hosts, lab.project("sp-s1"))
    apply(lab, known_hosts, lab.project("sp-s1", "sp-s2"))
    assert codes(lab.curl("sp-s2")) == ALLOWED

    with lab.session(known_hosts) as session:
        outcome = setup.rollback(session)
    assert outcome.changed
    assert codes(lab.curl("sp-s2")) == DENIED
    assert codes(lab.curl("sp-s1")) == ALLOWED

    with lab.session(known_hosts) as session:
        status = setup.status(session)
    assert status.managed is not None
    assert [s.address for s in status.managed.allowed()] == [HOSTS["sp-s1"]]
    assert status.state.running

    with lab.session(known_hosts) as session:
        setup.remove(session)
    assert codes(lab.curl("sp-s1")) == DENIED
    assert set(managed_files().values()) == {None}
    with lab.session(known_hosts) as session:
        assert setup.status(session).managed is None


def test_cancel_before_writing_changes_nothing(lab, known_hosts):
    apply(lab, known_hosts, lab.project("sp-s1"))
    before = managed_files()
    asked: list[str] = []

    def cancel() -> bool:
        asked.append("x")
        return True

    with pytest.raises(Cancelled, match="nothing on the server was changed"):
        apply(lab, known_hosts, replace(lab.project("sp-s1", "sp-s2")), cancel=cancel)
    assert asked
    assert managed_files() == before
    assert codes(lab.curl("sp-s2")) == DENIED


def test_squid_that_cannot_serve_the_new_config_is_rolled_back(lab, known_hosts):
    """The new port is taken: Squid parses the config but cannot serve it, so the old files come back."""
    apply(lab, known_hosts, lab.project("sp-s1"))
    before = managed_files()
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        taken.bind(("::", 3130))
        taken.listen()
        with pytest.raises(VerifyFailed, match="not serving on port 3130") as info:
            apply(lab, known_hosts, lab.project("sp-s1", "sp-s2", port=3130))
    assert "the previous configuration serves again" in str(info.value)
    assert managed_files() == before
    assert codes(lab.curl("sp-s1")) == ALLOWED
    assert codes(lab.curl("sp-s2")) == DENIED


def test_password_login_and_encrypted_rsa_key(lab, known_hosts):
    fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    by_password = replace(lab.target(SUDO_USER), auth=AuthMethod.PASSWORD, key_path="")
    with SshSession(
        by_password, known_hosts, {Kind.SSH: SUDO_PASSWORD, Kind.SUDO: SUDO_PASSWORD}, accept_fingerprint=fp
    ) as session:
        assert not session.is_root
        assert session.sudo_needs_password
    with pytest.raises(PasswordRefused, match=f"refused that password for {SUDO_USER}"):
        SshSession(by_password, known_hosts, {Kind.SSH: "wrong"}).connect()

    key = lab.tmp / "client_rsa"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "Key-Phrase-5", "-f", str(key)], check=True)
    with (lab.tmp / "authorized_keys" / "root").open("a") as f:
        f.write(key.with_suffix(".pub").read_text())
    rsa = replace(lab.target(), key_path=str(key))
    with pytest.raises(SecretNeeded) as info:
        SshSession(rsa, known_hosts).connect()
    assert info.value.kind is Kind.PASSPHRASE
    with SshSession(rsa, known_hosts, {Kind.PASSPHRASE: "Key-Phrase-5"}) as session:
        assert session.is_root
