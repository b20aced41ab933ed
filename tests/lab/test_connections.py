"""Proof of connection from real traffic: curl from the lab's sensors through the real Squid, then the
access log read back over SSH — by core, by `sensorproxy status --sensors`, and in the window."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from core import projectfile
from core.accesslog import AUTH_FAILED, DENIED, ESTABLISHED, LOG_FILE
from core.model import Sensor
from core.remote import setup
from core.secret_kind import Kind
from gui.sensor_model import STATE
from tests.lab.lab import HOSTS, Lab, lab_ip
from tests.lab.test_apply import ALLOWED, AUTH, codes
from tests.lab.test_apply import DENIED as DENIED_CODES
from tests.lab.test_cli import cli
from tests.qt_helpers import open_window, trigger

pytestmark = pytest.mark.lab
PASSWORD = "Seen-pass-3141"


def wait_for_lines(count: int, since: int) -> None:
    """Squid logs a tunnel when it closes, through its log daemon: wait until the lines are written."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(Path(LOG_FILE).read_bytes()[since:].splitlines()) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"Squid did not log {count} lines")


def test_access_log_shows_who_tunnelled_who_was_denied_and_who_failed_to_log_in(lab: Lab, known_hosts, qtbot, tmp_path):
    project = replace(lab.project("sp-s1", "sp-s2", auth_enabled=True, auth_user="seen"), site="Seen")
    with lab.session(known_hosts) as session:
        setup.apply(project, session, {Kind.PROXY: PASSWORD})
    log = Path(LOG_FILE)
    start = log.stat().st_size if log.exists() else 0
    assert codes(lab.curl("sp-s1", credentials=f"seen:{PASSWORD}")) == ALLOWED
    assert codes(lab.curl("sp-s2", credentials="seen:wrong")) == AUTH
    assert codes(lab.curl("sp-s3", credentials=f"seen:{PASSWORD}")) == DENIED_CODES
    wait_for_lines(3, start)

    # core
    with lab.session(known_hosts) as session:
        status = setup.status(session)
    rows, strangers = status.connections(project)
    assert [(a.address, a.current.result) for a in rows] == [
        (HOSTS["sp-s1"], ESTABLISHED), (HOSTS["sp-s2"], AUTH_FAILED),
    ]  # fmt: skip
    assert rows[0].tunnel.url == "hub.azure-devices.net:443"
    since_the_change = [(a.address, a.current.result) for a in strangers if a.current]
    assert since_the_change[:1] == [(HOSTS["sp-s3"], DENIED)]

    # the CLI
    path = tmp_path / "seen.toml"
    spare = Sensor("Spare", lab_ip(40))  # in the project, never configured: not seen
    projectfile.save(replace(project, sensors=(*project.sensors, spare)), path)
    known = lab.pinned(tmp_path / "config" / "known_hosts")  # the CLI's, through SENSORPROXY_CONFIG_DIR
    out = cli(tmp_path, "status", str(path), "--sensors").stdout
    assert f"{HOSTS['sp-s1']}" in out
    assert "1 of 3 enabled sensors tunnelled through" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  172.30.77.")}
    assert f"{ESTABLISHED} " in lines[HOSTS["sp-s1"]]
    assert f"{AUTH_FAILED} " in lines[HOSTS["sp-s2"]]
    assert lines[lab_ip(40)].endswith("not on the server")  # in the project, not in the server's rules
    assert f"not in the project: {HOSTS['sp-s3']}" in out

    # the window: the status view and the table's state column
    w = open_window(qtbot, path, tmp_path, known)
    with qtbot.waitSignal(w.server.finished, timeout=60_000) as done:
        trigger(w, "Server status")
    assert done.args == ["status", True]
    assert "1 of 3 enabled sensors tunnelled through since the configuration changed" in (
        w.status_view.seen_summary.text()
    )
    states = [w.model.index(r, STATE).data() for r in range(w.model.rowCount())]
    assert states[0].startswith(f"{ESTABLISHED} ")
    assert states[1].startswith(f"{AUTH_FAILED} ")
    assert states[2] == "not on the server"
    others = w.status_view.seen.topLevelItem(1)
    assert HOSTS["sp-s3"] in [others.child(i).text(0) for i in range(others.childCount())]
