"""The main window offscreen: editing, validation display, files, CSV, paste, settings and the keyring
state of the proxy password. Server runs against the real lab are in tests/lab/test_gui.py."""

from __future__ import annotations

import threading
import time

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QMessageBox, QPlainTextEdit, QSpinBox

from core import accesslog, credentials, csvio, projectfile
from core.model import Sensor
from core.secret_kind import Kind
from gui.sensor_model import ADDRESS, NAME, STATE
from tests.conftest import ROOT, make_project
from tests.qt_helpers import answer_dialogs, answer_next, choose_file, close, open_window, texts, trigger

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"
EXAMPLE_CSV = ROOT / "resources" / "example" / "sensors.csv"


def copy_example(tmp_path):
    path = tmp_path / "site.toml"
    path.write_bytes(EXAMPLE.read_bytes())
    return path


def test_opens_the_example_with_a_valid_preview(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    assert w.model.rowCount() == 5
    shown = w.preview.files.toPlainText()
    assert 'acl sensorproxy_sensors src "/etc/squid/sensorproxy.sensors"' in shown
    assert "\n192.168.40.11/32 # sensor Boiler%20house | notes Rack%20B2,%20port%2014\n" in shown
    assert w.statusBar().currentMessage() == "Valid: 4 of 5 sensors enabled"
    assert w.windowTitle().startswith("north-plant.toml[*] — North Plant")
    assert not w.isWindowModified()
    assert "not compared yet" in w.preview.diff_title.text()


def test_invalid_edit_shows_problems_instead_of_a_config(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.model.setData(w.model.index(0, ADDRESS), "0.0.0.0/0")
    qtbot.waitUntil(lambda: "problem" in w.statusBar().currentMessage())
    assert w.statusBar().currentMessage().startswith("1 problem — first: sensor 1 (Boiler house), address: 0.0.0.0/0")
    assert "cannot be shown until these are fixed" in w.preview.files.toPlainText()
    assert w.isWindowModified()
    w.undo.undo()
    qtbot.waitUntil(lambda: w.statusBar().currentMessage().startswith("Valid"))
    assert not w.isWindowModified()


def test_selecting_an_invalid_cell_puts_the_reason_in_the_status_bar(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.model.setData(w.model.index(2, ADDRESS), "10.0.0.300")
    w.sensors.table.setCurrentIndex(w.sensors.filter.mapFromSource(w.model.index(2, ADDRESS)))
    assert (
        w.statusBar()
        .currentMessage()
        .startswith("sensor 3 (Packaging line 2): '10.0.0.300' is not an IPv4 or IPv6 address")
    )


def test_form_problems_appear_under_their_field(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.form.port.setValue(8080)
    qtbot.waitUntil(lambda: "http_port 8080" in w.preview.files.toPlainText())
    error = w.form.errors["proxy.auth_user"]
    assert error.isHidden()
    w.form.auth_user.setText("bad user")
    qtbot.waitUntil(lambda: not error.isHidden())
    assert "proxy user 'bad user' must be 1-32 letters" in error.text()
    assert w.form.errors["ssh.host"].isHidden()
    w.form.host.setText("not a host!")
    qtbot.waitUntil(lambda: not w.form.errors["ssh.host"].isHidden())
    assert "'not a host!' is not an IP address or host name" in w.form.errors["ssh.host"].text()
    assert w.isWindowModified()


def test_parent_proxy_and_allowlist_editors_reach_the_preview_and_the_file(qtbot, tmp_path):
    path = copy_example(tmp_path)
    w = open_window(qtbot, path, tmp_path)
    w.form.parent_box.setChecked(True)
    qtbot.waitUntil(lambda: not w.form.errors["proxy.parent.host"].isHidden())
    assert "host is empty" in w.form.errors["proxy.parent.host"].text()
    w.form.parent_host.setText("upstream.corp.example")
    w.form.parent_port.setValue(8080)
    w.form.allowlist.setPlainText(".azure-devices.net\nbad domain\n")
    qtbot.waitUntil(lambda: not w.form.errors["proxy.allowlist"].isHidden())
    assert "'bad domain' is not a domain name" in w.form.errors["proxy.allowlist"].text()
    w.form.allowlist.setPlainText(".azure-devices.net\n")
    qtbot.waitUntil(lambda: "cache_peer upstream.corp.example parent 8080" in w.preview.files.toPlainText())
    assert w.files.save()
    saved = projectfile.load(path)
    assert saved.proxy.parent is not None
    assert (saved.proxy.parent.host, saved.proxy.parent.port) == ("upstream.corp.example", 8080)
    assert saved.proxy.allowlist == (".azure-devices.net",)


def test_save_writes_the_edited_project(qtbot, tmp_path):
    path = copy_example(tmp_path)
    w = open_window(qtbot, path, tmp_path)
    w.form.port.setValue(3129)
    w.model.setData(w.model.index(0, ADDRESS), "192.168.40.99")
    assert w.files.save()
    saved = projectfile.load(path)
    assert saved.proxy.port == 3129
    assert saved.sensors[0].address == "192.168.40.99"
    assert not w.isWindowModified()


def test_closing_with_unsaved_changes_asks_and_can_cancel(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.form.port.setValue(3130)
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[1])
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert not w.close()
    assert asked == ["Unsaved changes"]
    assert w.isVisible()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert w.close()


def test_paste_rows_reports_bad_rows_and_pastes_the_good_ones_as_one_undo_step(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    QGuiApplication.clipboard().setText("Pump A\t10.9.0.1\tnorth\nbroken\t10.9.0.300\nPump B\t10.9.0.2\n")
    seen = answer_dialogs(("Paste the 2 good rows", None))
    trigger(w, "Paste rows")
    qtbot.waitUntil(lambda: w.model.rowCount() == 7)  # read in a worker thread
    assert "line 2: '10.9.0.300' is not an IPv4 or IPv6 address" in seen.texts[0]
    assert [s.name for s in w.model.sensors()[-2:]] == ["Pump A", "Pump B"]
    assert w.model.sensors()[-2].notes == "north"
    assert w.undo.undoText() == "Paste 2 sensors"
    w.undo.undo()
    assert w.model.rowCount() == 5


def test_paste_can_be_cancelled_when_rows_are_bad(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    QGuiApplication.clipboard().setText("Pump A,10.9.0.1\nPump B,host.example\n")
    seen = answer_dialogs(("Cancel", None))
    trigger(w, "Paste rows")
    qtbot.waitUntil(lambda: bool(seen.titles))
    assert w.model.rowCount() == 5
    assert w.undo.count() == 0


def test_import_and_export_csv(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.model.reset((), False)
    answer_next(choose_file(EXAMPLE_CSV))
    trigger(w, "Import CSV…")
    imported = csvio.read(EXAMPLE_CSV).sensors
    qtbot.waitUntil(lambda: w.model.rowCount() > 0)
    assert w.model.sensors() == imported
    assert w.undo.undoText() == f"Import {len(imported)} sensors"
    out = tmp_path / "out.csv"
    csvio.write(w.model.sensors(), out)
    assert csvio.read(out).sensors == imported


def test_import_of_a_file_that_is_not_utf8_says_why_and_adds_nothing(qtbot, tmp_path):
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("name,address\nPumpe Süd,10.0.0.1\n".encode("latin-1"))
    w = open_window(qtbot, EXAMPLE, tmp_path)
    seen = answer_next(choose_file(bad), close)
    trigger(w, "Import CSV…")
    qtbot.waitUntil(lambda: len(seen.titles) == 2)  # read in a worker thread
    assert seen.titles == ["Import sensors from CSV", "Cannot import"]
    assert "line 2: not UTF-8 text; save it from Excel as 'CSV UTF-8'" in seen.texts[1]
    assert w.model.rowCount() == 5


def test_new_open_and_recent_files(qtbot, tmp_path):
    path = copy_example(tmp_path)
    w = open_window(qtbot, path, tmp_path)
    trigger(w, "New")
    assert w.model.rowCount() == 0
    assert w.path is None
    assert w.form.site.text() == "New site"
    assert w.files.recent_files() == [str(path.resolve())]
    assert [a.text() for a in w.recent_menu.actions()] == [f"&1 {path.resolve()}"]
    w.recent_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: w.model.rowCount() == 5)  # read in a worker thread
    assert w.form.site.text() == "North Plant"
    assert w.undo.count() == 0


def test_opening_a_broken_project_keeps_the_current_one(qtbot, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('schema = 1\nsite = "x"\n[ssh\n')
    w = open_window(qtbot, EXAMPLE, tmp_path)
    seen = answer_next(choose_file(broken), close)
    trigger(w, "Open…")
    qtbot.waitUntil(lambda: len(seen.titles) == 2)  # read in a worker thread
    assert seen.titles == ["Open project", "Cannot open the project"]
    assert w.statusBar().currentMessage() == "Valid: 4 of 5 sensors enabled"  # no longer "Reading…"
    assert "broken.toml" in seen.texts[1]
    assert "line 3" in seen.texts[1]
    assert w.model.rowCount() == 5


def test_window_geometry_is_remembered(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.resize(700, 500)  # the offscreen screen is 800x600
    assert w.close()
    again = open_window(qtbot, EXAMPLE, tmp_path)
    assert (again.width(), again.height()) == (700, 500)
    assert QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).value("window/split")


def test_filter_and_sort_over_ten_thousand_rows(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    sensors = tuple(Sensor(f"Sensor {i:05}", f"10.{i // 250}.{i % 250}.1") for i in range(10_000))
    w.model.reset(sensors, False)
    w.sensors.search.setText("Sensor 0999")
    qtbot.waitUntil(lambda: w.sensors.filter.rowCount() == 10)  # 09990-09999, once typing pauses
    w.sensors.search.setText("invalid")
    w.model.setData(w.model.index(7, ADDRESS), "10.0.7.300")
    qtbot.waitUntil(lambda: w.sensors.filter.rowCount() == 1)
    assert w.sensors.filter.index(0, NAME).data() == "Sensor 00007"
    w.sensors.search.clear()
    qtbot.waitUntil(lambda: w.sensors.filter.rowCount() == 10_000)
    w.sensors.table.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    assert w.sensors.filter.index(0, NAME).data() == "Sensor 09999"
    assert w.sensors.filter.index(0, STATE).data() == "ready"


def test_addresses_sort_by_number_and_invalid_ones_last(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    addresses = ["10.0.0.10", "fd00::1", "10.0.0.9", "not an ip", "10.0.0.0/24", "9.1.1.1"]
    w.model.reset(tuple(Sensor(f"S{i}", a) for i, a in enumerate(addresses)), False)
    w.sensors.table.sortByColumn(ADDRESS, Qt.SortOrder.AscendingOrder)
    shown = [w.sensors.filter.index(r, ADDRESS).data() for r in range(w.sensors.filter.rowCount())]
    assert shown == ["9.1.1.1", "10.0.0.0/24", "10.0.0.9", "10.0.0.10", "fd00::1", "not an ip"]


def test_every_form_control_has_an_accessible_name(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    controls = [
        c
        for kind in (QLineEdit, QSpinBox, QCheckBox, QComboBox, QPlainTextEdit)
        for c in w.form.findChildren(kind)
        if c.focusPolicy() != Qt.FocusPolicy.NoFocus
    ]
    assert len(controls) > 15
    unnamed = [c for c in controls if not (c.accessibleName() or getattr(c, "text", lambda: "")())]
    assert unnamed == []


def test_proxy_password_stored_state_change_and_forget(qtbot, tmp_path, isolated):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    field = w.form.password
    assert not field.stored
    assert field.remember.isChecked()  # a secure keyring is there: remembering is the default
    credentials.store(Kind.PROXY, w.project(), "Pr0xy-Secret")
    w.refresh_password_state()
    assert field.stored
    assert field.edit.isHidden()
    assert not field.stored_label.isHidden()
    assert "Pr0xy-Secret" not in texts(w)
    field.forget.click()
    assert credentials.get(Kind.PROXY, w.project()) is None
    assert not field.stored
    assert not field.edit.isHidden()
    assert isolated.items == {}
    credentials.store(Kind.PROXY, w.project(), "Pr0xy-Secret")
    w.refresh_password_state()
    field.change.click()
    assert not field.edit.isHidden()
    assert field.stored_label.isHidden()
    assert field.edit.text() == ""


def test_without_a_secure_keyring_nothing_is_stored_and_the_user_is_told_once(qtbot, tmp_path, monkeypatch):
    keyring.set_keyring(fail.Keyring())  # the `isolated` fixture puts the previous backend back
    w = open_window(qtbot, EXAMPLE, tmp_path)
    qtbot.waitUntil(lambda: not w.form.password.remember.isEnabled())  # checked once the window shows
    assert not w.form.password.remember.isChecked()
    assert w.form.password.remember.toolTip() == (
        "No secure password store on this computer (no Secret Service running): passwords are asked each time; "
        "this one is kept in memory until sensorproxy closes"
    )
    project = w.project()
    seen = answer_dialogs(("OK", "ssh-Secret-1", "Remember"), ("OK", "sudo-Secret-2"))
    assert w.secrets.secret(Kind.SSH, project) == "ssh-Secret-1"
    assert w.secrets.secret(Kind.SUDO, project) == "sudo-Secret-2"
    assert "SSH password of commissioning on proxy.north-plant.example:" in seen.texts[0]
    assert "No secure password store on this computer (no Secret Service running)" in seen.texts[0]
    assert "keyring." not in seen.texts[0]  # no backend class names
    assert "sudo password of commissioning on proxy.north-plant.example:" in seen.texts[1]
    assert "No secure password store" not in seen.texts[1]
    assert w.secrets.secret(Kind.SSH, project) == "ssh-Secret-1"  # kept for the session, not asked again
    w.settings.sync()
    written = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert not [f for f in written if b"Secret-" in f.read_bytes()]


def test_about_names_the_keyring_backend(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    seen = answer_dialogs(("OK", None))
    trigger(w, "About")
    assert "Passwords:</b> tests.conftest.MemoryKeyring" in seen.texts[0]


def test_the_window_title_uses_the_site_of_the_form(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.form.site.setText("South Plant")
    assert w.windowTitle() == "north-plant.toml[*] — South Plant — sensorproxy"


def test_a_page_is_made_when_first_shown(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    assert not w.preview_page.built
    w.tabs.setCurrentWidget(w.preview_page)
    assert w.preview_page.built
    assert "192.168.40.11/32" in w.preview.files.toPlainText()  # filled as it is made
    assert not w.status_page.built


def test_columns_fit_every_row_and_a_sort_reads_only_the_rows_in_view(qtbot, tmp_path, monkeypatch):
    wide = "fd00:1234:5678:9abc:def0:1234:5678:9a00/120"
    sensors = tuple(Sensor(f"S{i:05}", f"10.{i // 250}.{i % 250}.1") for i in range(10_000))
    w = open_window(qtbot, make_project(*sensors[:-1], Sensor("Last", wide)), tmp_path)
    header, metrics = w.sensors.table.horizontalHeader(), w.sensors.table.fontMetrics()
    assert header.sectionSize(ADDRESS) >= metrics.horizontalAdvance(wide)  # row 10,000, never in view

    w.model.setData(w.model.index(9_999, ADDRESS), "10.99.0.1")
    QGuiApplication.processEvents()
    assert metrics.horizontalAdvance("10.99.0.1") <= header.sectionSize(ADDRESS) < metrics.horizontalAdvance(wide)

    refused = accesslog.Entry(time.time(), "10.0.0.1", "TCP_DENIED", 407, "CONNECT", "hub:443", "")
    activity = accesslog.Activity("10.0.0.1", "S00000")
    activity.add(refused, since=0.0)
    w.model.set_snapshot(accesslog.Snapshot(None, {"10.0.0.1": activity}, since=0.0))
    QGuiApplication.processEvents()
    assert w.model.state(0).startswith(f"{accesslog.AUTH_FAILED} ")
    assert header.sectionSize(STATE) >= metrics.horizontalAdvance(w.model.state(0))

    # Qt's own fit-to-contents read 1,000 rows per column through the model at each sort (0.1 s here).
    reads = []
    state = type(w.model).state
    monkeypatch.setattr(type(w.model), "state", lambda self, row: (reads.append(row), state(self, row))[1])
    w.sensors.table.sortByColumn(NAME, Qt.SortOrder.DescendingOrder)
    QGuiApplication.processEvents()
    assert w.sensors.filter.index(0, NAME).data() == "S09998"
    assert 0 < len(set(reads)) < 100  # the state cells painted, not a column's worth


def test_rows_are_read_off_the_gui_thread_and_dropped_if_another_project_opens_meanwhile(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.model.reset((), False)
    threads, release = [], threading.Event()
    read = csvio.read

    def slow_read(*args, **kwargs):
        threads.append(threading.current_thread())
        release.wait(5)
        return read(*args, **kwargs)

    monkeypatch.setattr(csvio, "read", slow_read)
    answer_next(choose_file(EXAMPLE_CSV))
    trigger(w, "Import CSV…")
    qtbot.waitUntil(lambda: bool(threads))
    assert threads[0] is not threading.main_thread()
    assert w.statusBar().currentMessage() == f"Reading {EXAMPLE_CSV.name}…"

    job = w.files.reading
    w.load(projectfile.load(EXAMPLE), EXAMPLE)  # while the rows are still being read
    with qtbot.waitSignal(job.finished, timeout=5000):
        release.set()
    assert w.model.rowCount() == 5
    assert w.undo.count() == 0

    release.clear()
    answer_next(choose_file(EXAMPLE_CSV))
    trigger(w, "Import CSV…")
    qtbot.waitUntil(lambda: len(threads) == 2)
    w.load(projectfile.load(EXAMPLE), EXAMPLE)  # those rows are no longer wanted, but still being read
    threading.Timer(0.1, release.set).start()  # not a Qt timer: closing blocks the event loop
    assert w.close()  # waits for the reading thread rather than destroy it running
    assert release.is_set()
    assert not w.isVisible()


def test_a_project_is_opened_from_a_worker_thread(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    path = copy_example(tmp_path)
    threads = []
    load = projectfile.load
    monkeypatch.setattr(projectfile, "load", lambda p: (threads.append(threading.current_thread()), load(p))[1])
    answer_next(choose_file(path))
    trigger(w, "Open…")
    qtbot.waitUntil(lambda: w.path == path)
    assert threads
    assert threading.main_thread() not in threads
    assert w.model.rowCount() == 5


def test_the_state_columns_age_stays_true_while_the_window_is_open(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, make_project(Sensor("Boiler", "10.0.0.1")), tmp_path)
    seen = time.time()
    tunnel = accesslog.Entry(seen, "10.0.0.1", "TCP_TUNNEL", 200, "CONNECT", "hub:443", "")
    activity = accesslog.Activity("10.0.0.1", "Boiler")
    activity.add(tunnel, since=0.0)
    w.model.set_snapshot(accesslog.Snapshot(frozenset({"10.0.0.1"}), {"10.0.0.1": activity}, since=0.0))
    assert w.sensors.filter.index(0, STATE).data() == f"{accesslog.ESTABLISHED} {accesslog.clock(seen)}, just now"
    monkeypatch.setattr(accesslog.time, "time", lambda: seen + 150)
    w.sensors._ages.timeout.emit()  # the table's half-minute tick
    assert w.sensors.filter.index(0, STATE).data() == f"{accesslog.ESTABLISHED} {accesslog.clock(seen)}, 2 min ago"


def test_the_window_takes_secrets_from_the_environment_as_the_command_line_does(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SENSORPROXY_SUDO_PASSWORD", "sudo-from-env")
    w = open_window(qtbot, EXAMPLE, tmp_path)
    from gui.dialogs import LoginDialog

    monkeypatch.setattr(LoginDialog, "exec", lambda _self: pytest.fail("a password dialog opened"))
    assert w.secrets.secret(Kind.SUDO, w.project()) == "sudo-from-env"
