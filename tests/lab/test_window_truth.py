"""What the window says about the server is true: the State column's results carry their time and never
outlive the configuration they were made under, Cancel says what it can still stop, passwords are asked
once and asked again when refused, and the steps, errors and the status page say what happened.

Each test presses what a person presses in the window against the lab's real sshd and Squid; curl from
the sensor namespaces is the proof of what the sensors meet."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.accesslog import DENIED as DENIED_WORDS
from core.accesslog import ESTABLISHED, LOG_FILE
from core.model import AuthMethod
from core.remote import events, setup
from core.remote.events import STEPS, Status
from gui.sensor_model import STATE
from tests.lab.lab import HOSTS, SERVER_IP, SSH_PORT, SUDO_PASSWORD, SUDO_USER, Lab, sh
from tests.lab.test_apply import ALLOWED, AUTH, DENIED, codes
from tests.lab.test_gui import project_for, run
from tests.qt_helpers import answer_dialogs, answer_next, log_in, open_window, press, trigger

pytestmark = pytest.mark.lab
PROXY_PASSWORD = "Truth-proxy-Secret-6021"


def log_size() -> int:
    return Path(LOG_FILE).stat().st_size if Path(LOG_FILE).exists() else 0


def logged(since: int, count: int) -> None:
    """Squid logs a request when it ends, through its log daemon: wait until `count` lines are written."""
    deadline = time.monotonic() + 20
    while len(Path(LOG_FILE).read_bytes()[since:].splitlines()) < count:
        assert time.monotonic() < deadline, f"Squid did not log {count} lines"
        time.sleep(0.2)


def state(window, row: int = 0) -> tuple[str, str]:
    """The State cell as a person reads it in the table, and its tooltip."""
    index = window.sensors.filter.index(row, STATE)
    return index.data(), index.data(Qt.ItemDataRole.ToolTipRole) or ""


def steps_in_order(window) -> list[tuple[str, Status]]:
    """Record the step events of the run about to start, in the order the panel receives them."""
    seen: list[tuple[str, Status]] = []

    def connect(busy: bool) -> None:
        if busy and window.server.job is not None:
            window.server.job.reported.connect(
                lambda e: seen.append((e.step, e.status)) if isinstance(e, events.StepEvent) else None
            )

    window.server.busyChanged.connect(connect)
    return seen


def ended_in_order(seen: list[tuple[str, Status]]) -> bool:
    """No step is marked done before the steps before it."""
    order = [name for name, _ in STEPS]
    ended = [order.index(step) for step, status in seen if status is not Status.RUNNING]
    return ended == sorted(ended)


def test_the_state_column_shows_what_holds_now_with_its_time(lab: Lab, qtbot, tmp_path):
    project = project_for(lab, "sp-s1")
    known = lab.pinned(tmp_path / "known_hosts")
    with lab.session(known) as session:
        setup.apply(project, session, {})
    start = log_size()
    assert codes(lab.curl("sp-s1")) == ALLOWED  # a real tunnel, in the log
    logged(start, 1)
    with lab.session(known) as session:  # a site where nothing is set up any more, Squid stopped
        setup.remove(session)
    lab.stop_squid()

    w = open_window(qtbot, project, tmp_path, known)
    assert run(qtbot, w, "test") == ["test", True]
    words, tip = state(w)
    assert words == "not on the server"  # not the old line's "tunnel established"
    assert f"history, not state): {ESTABLISHED} at " in tip

    # Preview compares with the server: its header stops saying the server is not known yet.
    assert run(qtbot, w, "plan") == ["plan", True]
    assert "before the server is known" not in w.preview.files_title.text()
    assert f"compared with {SERVER_IP} at " in w.preview.files_title.text()

    # Apply: the column moves on at once; the tunnel before is history now.
    order = steps_in_order(w)
    assert run(qtbot, w, "apply") == ["apply", True]
    assert ended_in_order(order), order
    assert w.panel.items["backup"].text(2).startswith("backup in /var/backups/sensorproxy/")
    assert w.panel.items["activate"].text(2) == "started Squid"
    assert w.panel.items["verify"].text(2) == "Squid serves on port 3128"
    words, tip = state(w)
    assert words.startswith("not seen since ")
    assert f"history, not state): {ESTABLISHED}" in tip

    # A tunnel since the change: with its time.
    start = log_size()
    assert codes(lab.curl("sp-s1")) == ALLOWED
    logged(start, 1)
    assert run(qtbot, w, "status") == ["status", True]
    words, _ = state(w)
    assert words.startswith(f"{ESTABLISHED} "), words
    assert words.endswith(", just now"), words
    assert "1 of 1 enabled sensor tunnelled through since the configuration changed" in (
        w.status_view.seen_summary.text()
    )

    # A later denied request does not undo the tunnel since the change.
    start = log_size()
    assert codes(lab.curl("sp-s1", "https://blocked.example.net/")) == DENIED
    logged(start, 1)
    assert run(qtbot, w, "status") == ["status", True]
    words, tip = state(w)
    assert words.startswith(f"{ESTABLISHED} ")
    assert f"its latest request: {DENIED_WORDS} at " in tip
    assert "1 of 1 enabled sensor tunnelled through" in w.status_view.seen_summary.text()

    # Rollback takes the sensor off the server: the column says so at once, with no status read.
    answer_dialogs(("Yes", None))
    assert run(qtbot, w, "rollback") == ["rollback", True], w.panel.outcome.text() + w.panel.details.toPlainText()
    assert state(w)[0] == "not on the server"
    assert codes(lab.curl("sp-s1")) == DENIED

    # Apply again (Squid runs now: reconfigured), then Remove: off the server again.
    assert run(qtbot, w, "apply") == ["apply", True]
    assert w.panel.items["activate"].text(2) == "reconfigured Squid (squid -k reconfigure)"
    assert state(w)[0].startswith("not seen since ")
    answer_dialogs(("Yes", None))
    assert run(qtbot, w, "remove") == ["remove", True]
    assert state(w)[0] == "not on the server"


def test_cancel_once_the_server_is_changing_says_so_at_once_and_the_run_ends_cleanly(lab: Lab, qtbot, tmp_path):
    known = lab.pinned(tmp_path / "known_hosts")
    with lab.session(known) as session:
        setup.apply(project_for(lab, "sp-s1"), session, {})
    w = open_window(qtbot, project_for(lab, "sp-s1", "sp-s2"), tmp_path, known)
    pressed: list[tuple[str, bool, str]] = []

    def press_cancel_as_the_change_begins(event: events.Event) -> None:
        if isinstance(event, events.CancelNote) and event.text == events.NOT_CANCELLED and not pressed:
            qtbot.mouseClick(w.panel.cancel, Qt.MouseButton.LeftButton)
            pressed.append((w.panel.outcome.text(), w.panel.cancel.isEnabled(), w.statusBar().currentMessage()))

    with qtbot.waitSignal(w.server.finished, timeout=120_000) as done:
        trigger(w, "Apply")
        w.server.job.reported.connect(press_cancel_as_the_change_begins)  # events are queued: none arrived yet
    # Said at once, while the change ran: not a silent "Cancelling…".
    assert pressed == [(events.NOT_CANCELLED, False, events.NOT_CANCELLED)]
    assert done.args == ["apply", True]
    assert w.panel.outcome.text().startswith(f"Applied. Squid on {SERVER_IP} serves the new rules")
    assert w.panel.cancel.text() == "Cancel"
    assert not w.panel.cancel.isEnabled()
    assert all(action.isEnabled() for action in w.server_actions)
    assert codes(lab.curl("sp-s2")) == ALLOWED  # the change completed


def password_project(lab: Lab):
    base = project_for(lab, "sp-s1", user=SUDO_USER, auth_enabled=True, auth_user="truth")
    return replace(base, ssh=replace(base.ssh, auth=AuthMethod.PASSWORD, key_path=""))


def test_a_sudo_login_is_asked_in_one_dialog_and_a_refused_password_again_in_the_same_run(lab: Lab, qtbot, tmp_path):
    known = lab.pinned(tmp_path / "known_hosts")
    project = password_project(lab)
    w = open_window(qtbot, project, tmp_path, known)
    failed_while_asking: list[list[str]] = []

    def no_failure_shown(_dialog) -> None:
        failed_while_asking.append([name for name, _ in STEPS if w.panel.state(name) is Status.FAILED])

    seen = answer_next(
        log_in(ssh="Wrong-ssh-1", proxy=PROXY_PASSWORD, check=no_failure_shown),
        log_in(ssh=SUDO_PASSWORD, sudo="Wrong-sudo-2", same=False, check=no_failure_shown),
        log_in(sudo=SUDO_PASSWORD, check=no_failure_shown),
    )
    assert run(qtbot, w, "apply") == ["apply", True], w.panel.outcome.text()

    server = f"{SERVER_IP} (SSH port {SSH_PORT})"
    assert seen.titles == ["Passwords needed", "Passwords needed", "Password needed"]
    first, second, third = seen.texts
    assert f"SSH password of {SUDO_USER} on {server}:" in first
    assert f"sudo password of {SUDO_USER} on {server}:" in first
    assert "Password of proxy user truth (site GUI lab):" in first
    assert f"{SERVER_IP} refused that SSH password for {SUDO_USER} — try again" in second
    assert f"sudo refused that password for {SUDO_USER} — try again" in third
    for text in seen.texts:  # words, never a keyring key or a backend's class name
        assert "GUI lab:truth" not in text
        assert "proxy:" not in text
        assert "Keyring" not in text
    assert failed_while_asking == [[], [], []]
    assert w.panel.outcome.text().startswith("Applied.")
    assert codes(lab.curl("sp-s1", credentials=f"truth:{PROXY_PASSWORD}")) == ALLOWED
    assert codes(lab.curl("sp-s1", credentials="truth:Wrong-proxy")) == AUTH

    # Giving up on a refused sudo password: its own title, and the type once in the details.
    other = open_window(qtbot, project, tmp_path, known)
    seen = answer_next(
        log_in(ssh=SUDO_PASSWORD, sudo="Wrong-sudo-3", same=False, proxy=PROXY_PASSWORD), log_in(cancel=True)
    )
    assert run(qtbot, other, "apply") == ["apply", False]
    assert other.panel.outcome.text() == (
        f"sudo refused the password: sudo on {SERVER_IP} refused that password for {SUDO_USER}"
    )
    details = other.panel.details.toPlainText()
    assert details.count("SudoPasswordRefused") == 1, details
    assert codes(lab.curl("sp-s1", credentials=f"truth:{PROXY_PASSWORD}")) == ALLOWED  # nothing changed


def test_a_wrong_ssh_password_given_up_has_its_own_title(lab: Lab, qtbot, tmp_path):
    w = open_window(qtbot, password_project(lab), tmp_path, lab.pinned(tmp_path / "known_hosts"))
    seen = answer_next(log_in(ssh="Wrong-ssh-4"), log_in(cancel=True), press(QMessageBox.StandardButton.Ok))
    assert run(qtbot, w, "test") == ["test", False]
    assert seen.titles[2] == "The server refused the SSH password"  # not "could not be reached"
    assert f"refused that password for {SUDO_USER}" in seen.texts[2]
    assert f"{SERVER_IP} refused that SSH password for {SUDO_USER} — try again" in seen.texts[1]


def test_server_status_speaks_plainly_and_groups_clients_not_in_the_table(lab: Lab, qtbot, tmp_path):
    known = lab.pinned(tmp_path / "known_hosts")
    project = project_for(lab, "sp-s1", "sp-s2")
    with lab.session(known) as session:
        setup.apply(replace(project, sensors=project.sensors[:1]), session, {})
    start = log_size()
    assert codes(lab.curl("sp-parent")) == DENIED  # a client not in the table, only before the change
    logged(start, 1)
    time.sleep(1.1)  # the change below falls in a later second (the server's file times are whole seconds)

    w = open_window(qtbot, project, tmp_path, known)
    bar = w.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(w.tabs.indexOf(w.status_page)).center())
    view = w.status_view
    assert w.tabs.currentWidget() is w.status_page
    qtbot.waitUntil(view.summary.isVisible)  # the page is built as it is first shown
    assert not any(label.isVisible() for label in view.fields.values())  # no headings over nothing
    assert not view.seen.isVisible()

    assert run(qtbot, w, "apply") == ["apply", True]  # adds sp-s2: the change
    start = log_size()
    assert codes(lab.curl("sp-s1")) == ALLOWED
    assert codes(lab.curl("sp-s3")) == DENIED  # not in the table, since the change
    sh("ip", "netns", "exec", "sp-s2", "bash", "-c", f"exec 3<>/dev/tcp/{SERVER_IP}/3128; exec 3>&-")
    logged(start, 3)
    trigger(w, "Server status")
    qtbot.waitUntil(lambda: not w.server.busy and view.seen.topLevelItemCount() > 0, timeout=60_000)

    assert view.fields["Server"].isVisible()
    assert not view.fields["Notes"].isVisible()
    sensors, others = (view.seen.topLevelItem(i) for i in range(2))
    assert sensors.text(0) == "Sensors in the table (2)"
    rows = {sensors.child(i).text(0): sensors.child(i) for i in range(sensors.childCount())}
    assert rows[HOSTS["sp-s1"]].text(2) == ESTABLISHED
    assert rows[HOSTS["sp-s2"]].text(2) == "connected to the port but sent no request"
    assert others.text(0).startswith("Clients not in the table (")
    current = [others.child(i) for i in range(others.childCount()) if others.child(i).childCount() == 0]
    assert HOSTS["sp-s3"] in [item.text(0) for item in current]
    [older] = [others.child(i) for i in range(others.childCount()) if others.child(i).childCount()]
    assert older.text(0).startswith("Seen only before the change (")
    assert not older.isExpanded()  # old entries do not drown today's
    assert HOSTS["sp-parent"] in [older.child(i).text(0) for i in range(older.childCount())]
    assert HOSTS["sp-parent"] not in [item.text(0) for item in current]
