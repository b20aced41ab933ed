"""The window drives real runs against the lab: host-key trust, apply, preview, status, cancel, and
secrets from the real Secret Service that never leak. curl from the sensor namespaces is the proof."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import keyring
import paramiko
import pytest

from core import credentials, logs, projectfile
from core.model import Sensor
from core.remote import setup
from core.remote.events import STEPS, Status
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.secret_kind import Kind
from gui import server_actions
from gui.apply_panel import FINAL
from tests.lab.lab import HOSTS, SERVER_IP, SSH_PORT, SUDO_PASSWORD, SUDO_USER, Lab, Relay
from tests.lab.test_apply import ALLOWED, AUTH, DENIED, codes
from tests.qt_helpers import PROXY_MENU, answer_dialogs, open_window, refusing_dialogs, texts, trigger

pytestmark = pytest.mark.lab
PROXY_PASSWORD = "Gui-Proxy-Secret-8817"
WRONG_SUDO = "Wrong-sudo-5512"


def project_for(lab: Lab, *names: str, **proxy: object):
    return replace(lab.project(*names, **proxy), site="GUI lab")


def run(qtbot, window, name: str) -> list:
    with qtbot.waitSignal(window.server.finished, timeout=240_000) as done:
        trigger(window, PROXY_MENU[name])
    return done.args


def squid_files() -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(Path("/etc/squid").rglob("*")) if p.is_file()}


def test_apply_from_the_window_after_trusting_the_host_key(lab, qtbot, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    w = open_window(qtbot, project_for(lab, "sp-s1"), tmp_path, known)
    seen = answer_dialogs(("Trust this key", None))

    assert run(qtbot, w, "apply") == ["apply", True]

    assert seen.titles == ["Unknown server"]
    assert lab.fingerprint(lab.tmp / "host_ed25519.pub") in seen.texts[0]
    assert "ssh-ed25519" in seen.texts[0]
    assert known.app_file.exists()
    assert w.panel.outcome.text().startswith(f"Applied. Squid on {SERVER_IP} serves the new rules on port 3128.")
    assert all(w.panel.state(name) in FINAL for name, _ in STEPS)
    assert w.panel.state("write") is Status.CHANGED
    assert w.panel.progress.value() == w.panel.progress.maximum()
    assert "[verify]" in w.panel.log.toPlainText()
    assert codes(lab.curl("sp-s1")) == ALLOWED
    assert codes(lab.curl("sp-s2")) == DENIED

    # Preview compares with the server: up to date; then an added sensor shows up in the diff.
    assert run(qtbot, w, "plan") == ["plan", True]
    assert "is up to date" in w.preview.diff_title.text()
    w.model.add([Sensor("Sensor sp-s2", HOSTS["sp-s2"])])
    assert run(qtbot, w, "plan") == ["plan", True]
    assert f"\n+{HOSTS['sp-s2']}/32 # sensor " in w.preview.diff.toPlainText()
    assert codes(lab.curl("sp-s2")) == DENIED  # a preview changes nothing

    # Server status reads the rules back and marks the sensor the server does not allow yet.
    assert run(qtbot, w, "status") == ["status", True]
    assert "differs from the table in 1 sensor" in w.status_view.summary.text()
    assert w.status_view.fields["Port"].text() == "3128: listening"
    assert run(qtbot, w, "apply") == ["apply", True]
    assert codes(lab.curl("sp-s2")) == ALLOWED
    assert run(qtbot, w, "status") == ["status", True]
    assert "allows exactly the table's 2 enabled sensors" in w.status_view.summary.text()


def test_refusing_the_host_key_sends_nothing(lab, qtbot, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    before = squid_files()
    w = open_window(qtbot, project_for(lab, "sp-s3"), tmp_path, known)
    seen = answer_dialogs(("Cancel", None))

    assert run(qtbot, w, "apply") == ["apply", False]

    assert seen.titles == ["Unknown server"]
    assert w.panel.outcome.text() == (
        "The server was not trusted: You did not trust its host key, so nothing was sent to it."
    )
    assert not known.app_file.exists()
    assert squid_files() == before


def test_a_changed_host_key_is_a_blocking_warning_without_accept(lab, qtbot, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    other = paramiko.Ed25519Key.from_private_key_file(str(lab.client_key))  # any other key
    known.pin(f"[{SERVER_IP}]:{SSH_PORT}", other)
    w = open_window(qtbot, project_for(lab, "sp-s3"), tmp_path, known)
    seen = answer_dialogs(("Close", None))

    assert run(qtbot, w, "apply") == ["apply", False]

    assert seen.titles == ["The server's host key has changed"]
    assert "HAS CHANGED" in w.panel.outcome.text()
    assert f"{SERVER_IP}" in known.app_file.read_text()
    assert lab.host_key().get_base64() not in known.app_file.read_text()


def test_cancel_during_connect_changes_nothing(lab, qtbot, tmp_path):
    relay = Relay(SERVER_IP, SSH_PORT)
    try:
        known = lab.pinned(tmp_path / "known_hosts", "127.0.0.1", relay.port)
        base = project_for(lab, "sp-s1", "sp-s2", "sp-s3")
        project = replace(base, ssh=replace(base.ssh, host="127.0.0.1", port=relay.port))
        w = open_window(qtbot, project, tmp_path, known)
        before, pid = squid_files(), lab.squid_pid()
        relay.hold()
        with qtbot.waitSignal(w.server.finished, timeout=120_000) as done:
            trigger(w, "Apply")
            qtbot.waitUntil(lambda: w.panel.state("connect") is Status.RUNNING)
            assert w.menuBar().isEnabled()  # the window answers while the worker waits on the network
            w.panel.cancel.click()
            relay.release()
        assert done.args == ["apply", False]
        # Asked for, so news rather than an error: plain words, no red, nothing technical to open.
        assert w.panel.outcome.text() == "Cancelled while connecting; nothing was sent to the server."
        assert w.panel.outcome.styleSheet() == ""
        assert w.panel.details_button.isHidden()
        assert w.panel.state("connect") is Status.SKIPPED
        assert w.panel.cancel.text() == "Cancel"
        assert w.panel.state("write") is None
        assert squid_files() == before
        assert lab.squid_pid() == pid
    finally:
        relay.close()


def test_secrets_from_the_real_keyring_never_leak(lab, qtbot, tmp_path, secret_service, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    sessions: list[SshSession] = []

    def recording(*args, **kwargs):
        sessions.append(SshSession(*args, **kwargs))
        return sessions[-1]

    monkeypatch.setattr(server_actions, "SshSession", recording)
    assert credentials.backend_name() == "keyring.backends.SecretService.Keyring"
    project = project_for(lab, "sp-s1", user=SUDO_USER, auth_enabled=True, auth_user="gui-sensors")
    path = tmp_path / "site.toml"
    projectfile.save(project, path)
    known = lab.pinned(tmp_path / "known_hosts")

    log_path = logs.start()  # as the window's start does

    # First run: the proxy password is typed in the form (remembered by default), sudo's is asked for.
    w = open_window(qtbot, path, tmp_path, known)
    w.form.password.edit.setText(PROXY_PASSWORD)
    w.form.password.again.setText(PROXY_PASSWORD)
    seen = answer_dialogs(("OK", SUDO_PASSWORD, "Remember"))
    assert run(qtbot, w, "apply") == ["apply", True], w.panel.outcome.text()
    assert seen.titles == ["Password needed"]
    assert f"sudo password of {SUDO_USER} on {SERVER_IP} (SSH port {SSH_PORT}):" in seen.texts[0]
    assert keyring.get_password("sensorproxy", f"sudo:{SUDO_USER}@{SERVER_IP}:{SSH_PORT}") == SUDO_PASSWORD
    assert keyring.get_password("sensorproxy", "proxy:GUI lab:gui-sensors") == PROXY_PASSWORD
    assert w.form.password.stored
    assert codes(lab.curl("sp-s1", credentials=f"gui-sensors:{PROXY_PASSWORD}")) == ALLOWED
    assert codes(lab.curl("sp-s1")) == AUTH
    w.model.add([Sensor("Sensor sp-s2", HOSTS["sp-s2"])])
    assert w.files.save()

    # A fresh window takes every secret from the keyring: no dialog opens.
    again = open_window(qtbot, path, tmp_path, known)
    with refusing_dialogs() as unasked:
        assert run(qtbot, again, "apply") == ["apply", True], again.panel.outcome.text()
    assert unasked.titles == []
    assert codes(lab.curl("sp-s2", credentials=f"gui-sensors:{PROXY_PASSWORD}")) == ALLOWED

    # A wrong stored sudo password is refused, and asked for again in the same run, saying so.
    credentials.store(Kind.SUDO, again.project(), WRONG_SUDO)
    third = open_window(qtbot, path, tmp_path, known)
    third.model.remove([1])
    seen = answer_dialogs(("OK", SUDO_PASSWORD))
    assert run(qtbot, third, "apply") == ["apply", True], third.panel.outcome.text()
    assert seen.titles == ["Password needed"]
    assert f"sudo refused that password for {SUDO_USER} — try again" in seen.texts[0]
    assert codes(lab.curl("sp-s2", credentials=f"gui-sensors:{PROXY_PASSWORD}")) == DENIED

    # No secret in the project file, the server's files, the commands sent, the window or any log.
    secrets = (PROXY_PASSWORD, SUDO_PASSWORD, WRONG_SUDO)
    commands = [c for s in sessions for c in s.commands]
    assert len(commands) >= 9
    places = {
        "project file": path.read_text(),
        "squid files": b"".join(squid_files().values()).decode(errors="replace"),
        "ssh commands": "\n".join(commands),
        "windows": "\n".join(texts(x) for x in (w, again, third)),
        "status bars": "\n".join(x.statusBar().currentMessage() for x in (w, again, third)),
        "python logs": caplog.text,
        "sensorproxy's log": log_path.read_text(),
        "settings": [x.settings.sync() for x in (w, again, third)] and (tmp_path / "settings.ini").read_text(),
    }
    assert "INFO [verify] changed: " in places["sensorproxy's log"]  # the log has the runs
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"a secret in the {where}"


def test_rollback_and_remove_from_the_window_ask_once(lab, qtbot, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    with lab.session(known) as session:  # two changes, so there is a previous state to go back to
        setup.apply(project_for(lab, "sp-s1"), session, {})
        setup.apply(project_for(lab, "sp-s1", "sp-s2"), session, {})
    assert codes(lab.curl("sp-s2")) == ALLOWED
    w = open_window(qtbot, project_for(lab, "sp-s1", "sp-s2"), tmp_path, KnownHosts(tmp_path / "window_known"))
    seen = answer_dialogs(("Yes", None), ("Trust this key", None))
    assert run(qtbot, w, "rollback") == ["rollback", True]
    assert seen.titles == ["Change the server?", "Unknown server"]  # the retry after trusting asks no more
    assert w.panel.outcome.text().startswith(f"Rolled back: {SERVER_IP} serves the previous configuration.")
    assert codes(lab.curl("sp-s2")) == DENIED
    assert codes(lab.curl("sp-s1")) == ALLOWED

    refused = answer_dialogs(("Cancel", None))
    trigger(w, "Remove from server…")
    assert refused.titles == ["Change the server?"]
    assert not w.server.busy
    answer_dialogs(("Yes", None))
    assert run(qtbot, w, "remove") == ["remove", True]
    assert w.panel.outcome.text().startswith(f"Removed sensorproxy's rules from {SERVER_IP}.")
    assert codes(lab.curl("sp-s1")) == DENIED
