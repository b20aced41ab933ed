"""The window as a person uses it, by keys and clicks: the keyboard path through it, sensor numbers that
match what the table shows, passwords typed once, pasted rows that clash, connecting to the wrong port,
and the small things a person notices (issue 15)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QTableView,
    QWidget,
)

from core import projectfile
from core.model import Project, ProxySettings, Sensor, SshTarget, validate
from core.remote import session as ssh_session
from gui.main_window import MainWindow
from gui.sensor_model import ADDRESS, NAME
from tests.conftest import make_project
from tests.qt_helpers import (
    answer_dialogs,
    answer_next,
    choose_file,
    close,
    open_window,
    press,
    refusing_dialogs,
    trigger,
)


class SilentPort:
    """Accepts TCP and never says a word, like a web admin port or a firewall's tarpit."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.closed_by_client = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.accepted.append(conn)
        try:
            while conn.recv(4096):  # the client's own greeting; never an answer
                pass
        except OSError:
            return
        self.closed_by_client.set()  # the client gave up and closed

    def close(self) -> None:
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentPort]:
    port = SilentPort()
    yield port
    port.close()


def project(port: int, **proxy: object) -> Project:
    return Project(
        site="Turbine Site",
        ssh=SshTarget(host="127.0.0.1", user="root", port=port),
        proxy=ProxySettings(**{"sensor_host": "10.77.0.1", **proxy}),  # type: ignore[arg-type]
        sensors=(Sensor("PLC-1", "10.77.0.5"), Sensor("Alpha", "10.77.0.6"), Sensor("Mixer", "10.77.0.7")),
    )


def active(qtbot, window: MainWindow) -> MainWindow:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def tab_chain(start: QWidget, presses: int) -> list[QWidget]:
    start.setFocus()
    chain = [QApplication.focusWidget()]
    for _ in range(presses):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        chain.append(QApplication.focusWidget())
    return chain


# --- keyboard ----------------------------------------------------------------------------------


def test_tab_goes_filter_table_form_and_reaches_every_field_and_button(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    w.form.parent_box.setChecked(True)  # its fields are reachable too
    chain = tab_chain(w.sensors.search, 60)
    assert chain[:5] == [w.sensors.search, w.sensors.table, w.tabs.tabBar(), w.form.site, w.form.host]
    lap = chain[: chain.index(w.sensors.search, 1)]
    assert lap.count(w.sensors.table) == 1  # Tab leaves the table at once: no cell after cell trap
    form_controls = [
        c
        for kind in (QLineEdit, QSpinBox, QCheckBox, QComboBox, QPlainTextEdit, QAbstractButton)
        for c in w.form.findChildren(kind)
        if c.isVisibleTo(w)
        and c.isEnabled()
        and c.focusPolicy() & Qt.FocusPolicy.TabFocus
        and not isinstance(c.parent(), QAbstractSpinBox)  # a spin box's own line edit is the spin box
    ]
    missing = [c.accessibleName() or getattr(c, "text", lambda: "")() for c in form_controls if c not in lap]
    assert missing == []
    shift_back = w.form.site
    shift_back.setFocus()
    QTest.keyClick(shift_back, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is w.tabs.tabBar()
    QTest.keyClick(w.tabs.tabBar(), Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is w.sensors.table


def test_form_fields_work_from_the_keyboard(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    w.form.sudo.setFocus()
    QTest.keyClick(w.form.sudo, Qt.Key.Key_Space)
    assert w.form.sudo.isChecked()
    w.form.auth.setFocus()
    QTest.keyClick(w.form.auth, Qt.Key.Key_Down)
    assert w.form.auth.currentText() != "Key file"
    w.form.port.setFocus()
    w.form.port.selectAll()
    QTest.keyClicks(w.form.port, "3129")
    assert w.form.port.value() == 3129
    w.sensors.table.setFocus()
    w.sensors.table.setCurrentIndex(w.sensors.filter.index(0, NAME))
    QTest.keyClick(w.sensors.table, Qt.Key.Key_Down)
    assert w.sensors.table.currentIndex().row() == 1  # arrows move between cells
    QTest.keyClick(w.sensors.table, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit))
    QApplication.focusWidget().selectAll()
    QTest.keyClicks(QApplication.focusWidget(), "Boiler")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.model.sensors()[1].name == "Boiler")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_focus_is_visible_on_every_stop(qtbot, tmp_path, scheme, monkeypatch):
    """Each control looks different with the keyboard focus than without it, in both schemes."""
    from gui import theme

    app = QApplication.instance()
    palette, style = app.palette(), app.style().name()
    monkeypatch.setenv(theme.THEME_ENV, scheme)
    theme.apply(app)
    try:
        w = active(qtbot, open_window(qtbot, project(22), tmp_path))
        w.sensors.search.setFocus()
        unmarked = []
        while True:  # one lap of Tab presses: each stop as it looks with the focus, then once Tab moved on
            widget = QApplication.focusWidget()
            with_focus = widget.grab().toImage()
            QTest.keyClick(widget, Qt.Key.Key_Tab)
            if widget.grab().toImage() == with_focus:
                unmarked.append(widget.accessibleName() or type(widget).__name__)
            if QApplication.focusWidget() is w.sensors.search:
                break
        assert unmarked == []
    finally:
        app.setStyle(style)
        app.setPalette(palette)


# --- sensor numbers ----------------------------------------------------------------------------


def test_sorted_or_filtered_a_sensor_keeps_its_number_everywhere(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    w.model.setData(w.model.index(2, ADDRESS), "10.77.0.300")  # Mixer, sensor 3
    qtbot.mouseClick(w.sensors.table.horizontalHeader().viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(w.sensors.table.horizontalHeader().sectionViewportPosition(NAME) + 5, 5))  # fmt: skip
    names = [w.sensors.filter.index(r, NAME).data() for r in range(3)]
    assert names == ["Alpha", "Mixer", "PLC-1"]
    shown_row = names.index("Mixer")
    header = w.sensors.table.verticalHeader()
    assert w.sensors.filter.headerData(shown_row, Qt.Orientation.Vertical) == 3
    rect = w.sensors.table.visualRect(w.sensors.filter.index(shown_row, ADDRESS))
    qtbot.mouseClick(w.sensors.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert w.statusBar().currentMessage().startswith("sensor 3 (Mixer): '10.77.0.300' is not an IPv4")
    w.tabs.setCurrentWidget(w.preview_page)
    qtbot.waitUntil(lambda: "sensor 3 (Mixer), address" in w.preview.files.toPlainText())
    w.sensors.search.setText("Mix")
    qtbot.waitUntil(lambda: w.sensors.filter.rowCount() == 1)
    assert w.sensors.filter.headerData(0, Qt.Orientation.Vertical) == 3
    assert header.isVisible()


# --- paste and import --------------------------------------------------------------------------


def test_pasted_rows_that_clash_are_bad_rows_never_red_rows(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    QGuiApplication.clipboard().setText("plc-1\t10.77.0.50\nPump\t10.77.0.6\nNew\t10.77.0.9\nnew\t10.77.0.10\n")
    seen = answer_dialogs(("Paste the 1 good row", None))
    w.sensors.table.setFocus()
    QTest.keyClick(
        w.sensors.table, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: w.model.rowCount() == 4)
    assert "3 rows of the clipboard are wrong:" in seen.texts[0]
    listed = seen.texts[0]
    assert "line 1: 'plc-1' is also the name of sensor 1 (PLC-1)" in listed
    assert "line 2: 10.77.0.6 is also the address of sensor 2 (Alpha)" in listed
    assert "line 4: 'new' is also the name of line 3" in listed
    assert validate(w.project()) == []  # nothing added turned red
    assert w.model.sensors()[-1] == Sensor("New", "10.77.0.9")


# --- passwords ---------------------------------------------------------------------------------


def test_a_typed_proxy_password_stays_and_is_not_asked_again(qtbot, tmp_path, listener):
    w = active(qtbot, open_window(qtbot, project(listener.port, auth_enabled=True, auth_user="dfiot"), tmp_path))
    field = w.form.password
    field.remember.setChecked(False)
    field.edit.setFocus()
    QTest.keyClicks(field.edit, "Typed-Once-1")
    QTest.keyClicks(field.again, "Typed-Once-1")  # shown once something is typed: a new password goes in twice
    seen = answer_next(close)
    QTest.keyClick(w, Qt.Key.Key_F5)  # Preview
    qtbot.waitUntil(lambda: bool(seen.titles), timeout=15_000)
    assert seen.titles == ["No SSH server on that port"]
    assert field.edit.text() == "Typed-Once-1"
    assert not field.edit.isHidden()
    active(qtbot, w)  # back from the dialog
    with refusing_dialogs() as asked:
        QTest.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Apply
        qtbot.waitUntil(lambda: bool(w.panel.outcome.text()), timeout=15_000)
    assert asked.titles == []  # the typed password was used, not asked for again
    assert field.edit.text() == "Typed-Once-1"


def test_a_new_proxy_password_goes_nowhere_until_it_is_typed_twice_alike(qtbot, tmp_path, listener):
    w = active(qtbot, open_window(qtbot, project(listener.port, auth_enabled=True, auth_user="dfiot"), tmp_path))
    field = w.form.password
    assert field.again.isHidden()  # nothing typed, nothing to confirm
    field.edit.setFocus()
    QTest.keyClicks(field.edit, "Sensors-Pass-7")
    assert not field.again.isHidden()
    QTest.keyClicks(field.again, "Sensors-Pass-8")  # one key off: every sensor would be locked out
    assert not field.mismatch.isHidden()
    seen = answer_next(close)
    QTest.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Apply
    qtbot.waitUntil(lambda: bool(seen.titles))
    assert seen.titles == ["The proxy password is not confirmed"]
    assert "The two proxy passwords differ" in seen.texts[0]
    assert listener.connections == 0  # refused before anything connected
    assert w.focusWidget() is field.again  # where to type it again

    active(qtbot, w)  # back from the dialog
    QTest.keyClick(field.again, Qt.Key.Key_Backspace)
    QTest.keyClicks(field.again, "7")
    assert field.mismatch.isHidden()
    with refusing_dialogs():
        QTest.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: bool(w.panel.outcome.text()), timeout=15_000)
    assert listener.connections == 1  # confirmed: it went to the server (which is no SSH server)


def test_a_missing_proxy_password_is_asked_in_words_after_the_server_answered(qtbot, tmp_path, listener):
    w = active(qtbot, open_window(qtbot, project(listener.port, auth_enabled=True, auth_user="dfiot"), tmp_path))
    with refusing_dialogs() as seen:
        QTest.keyClick(w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Apply
        qtbot.waitUntil(lambda: bool(w.panel.outcome.text()), timeout=15_000)
    assert listener.connections == 1  # it went to the server first; that server is no SSH server
    assert "No SSH server on that port" in w.panel.outcome.text()
    assert seen.titles == []  # no password was asked for a server that never answered as SSH


# --- connecting --------------------------------------------------------------------------------


def test_a_port_that_never_speaks_ssh_fails_soon_and_in_words(qtbot, tmp_path, silent, monkeypatch):
    monkeypatch.setattr(ssh_session, "BANNER_TIMEOUT", 1.0)
    w = active(qtbot, open_window(qtbot, project(silent.port), tmp_path))
    seen = answer_next(close)
    QTest.keyClick(w, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)  # Test connection
    qtbot.waitUntil(lambda: bool(seen.titles), timeout=15_000)
    assert seen.titles == ["No SSH server on that port"]
    assert seen.texts[0] == (  # the headline in the box too: many desktops do not show a message box's title
        "<b>No SSH server on that port</b>\n"
        f"port {silent.port} on 127.0.0.1 answers, but not as an SSH server (no SSH greeting within 1 s); "
        "check the SSH port"
    )
    assert "banner" not in seen.texts[0].lower()


def test_connecting_shows_progress_and_cancel_gives_up_the_connection(qtbot, tmp_path, silent, monkeypatch):
    monkeypatch.setattr(ssh_session, "BANNER_TIMEOUT", 60.0)
    w = active(qtbot, open_window(qtbot, project(silent.port), tmp_path))
    seen = answer_next(close)
    QTest.keyClick(w, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: any(p.isVisible() for p in w.findChildren(QProgressDialog)), timeout=5000)
    [progress] = [p for p in w.findChildren(QProgressDialog) if p.isVisible()]
    assert "Comparing with 127.0.0.1" in progress.labelText()
    cancel = next(b for b in progress.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.server.busy, timeout=5000)  # well before the 60 s greeting timeout
    assert silent.closed_by_client.wait(5)
    # A cancel the engineer asked for is news, not an error: no warning box, a plain status line.
    assert seen.titles == []
    assert w.statusBar().currentMessage() == "Cancelled while connecting; nothing was sent to the server."
    assert not any(p.isVisible() for p in w.findChildren(QProgressDialog))
    assert all(a.isEnabled() for a in w.server_actions)


# --- the small things --------------------------------------------------------------------------


def test_an_empty_project_says_how_to_add_sensors(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    assert w.sensors.empty_hint.isHidden()
    QTest.keyClick(w, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert not w.sensors.empty_hint.isHidden()
    assert [b.text() for b in w.sensors.empty_hint.buttons.values()] == ["Add sensor", "Paste rows", "Import CSV…"]
    qtbot.mouseClick(w.sensors.empty_hint.buttons["add"], Qt.MouseButton.LeftButton)
    assert w.model.rowCount() == 1
    assert w.sensors.empty_hint.isHidden()
    w.undo.undo()
    assert not w.sensors.empty_hint.isHidden()
    seen = answer_next(close)
    qtbot.mouseClick(w.sensors.empty_hint.buttons["import"], Qt.MouseButton.LeftButton)
    assert seen.titles == ["Import sensors from CSV"]


def test_save_as_proposes_the_last_folder_and_a_name_from_the_site(qtbot, tmp_path):
    folder = tmp_path / "sites"
    folder.mkdir()
    earlier = folder / "earlier.toml"
    projectfile.save(project(22), earlier)
    w = active(qtbot, open_window(qtbot, earlier, tmp_path))
    QTest.keyClick(w, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    w.form.site.setText("Turbine Hall 2")
    proposed: list[str] = []

    def note(dialog: QWidget) -> None:
        assert isinstance(dialog, QFileDialog)
        proposed.append(
            str(Path(dialog.directory().absolutePath()) / dialog.findChild(QLineEdit, "fileNameEdit").text())
        )
        choose_file(folder / "turbine-hall-2.toml")(dialog)

    answer_next(note)
    QTest.keyClick(w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert proposed == [str(folder / "turbine-hall-2.toml")]
    assert projectfile.load(folder / "turbine-hall-2.toml").site == "Turbine Hall 2"


def test_the_validity_summary_comes_back_after_a_menu_closes(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    assert w.statusBar().currentMessage() == "Valid: 3 of 3 sensors enabled"
    file_menu = w.menuBar().actions()[0].menu()
    w.menuBar().setActiveAction(w.menuBar().actions()[0])  # as a click on "File" does
    qtbot.waitUntil(file_menu.isVisible)
    first = file_menu.actions()[0]
    QTest.mouseMove(file_menu, file_menu.actionGeometry(first).center())
    qtbot.waitUntil(lambda: file_menu.activeAction() is first)
    QTest.keyClick(file_menu, Qt.Key.Key_Escape)
    QTest.keyClick(w.menuBar(), Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not file_menu.isVisible())
    assert isinstance(file_menu, QMenu)
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() == "Valid: 3 of 3 sensors enabled")


def test_wide_ranges_are_allowed_by_a_control_in_the_form(qtbot, tmp_path):
    path = tmp_path / "site.toml"
    projectfile.save(project(22), path)
    w = active(qtbot, open_window(qtbot, path, tmp_path))
    w.model.setData(w.model.index(0, ADDRESS), "172.16.0.0/12")
    qtbot.waitUntil(lambda: "Allow wide sensor ranges" in w.statusBar().currentMessage())
    box = w.form.allow_wide
    assert box.text().startswith("Allow wide sensor ranges")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(5, box.height() // 2))
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() == "Valid: 3 of 3 sensors enabled")
    assert w.model.state(0) == "ready"
    assert w.files.save()
    assert projectfile.load(path).proxy.allow_wide_ranges


def test_log_in_with_says_where_the_secret_comes_from(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    w.form.auth.setCurrentIndex(w.form.auth.findText("Password"))
    assert "asked for once the server answers" in w.form.auth_hint.text()
    assert "keyring" in w.form.auth_hint.text()
    w.form.auth.setCurrentIndex(w.form.auth.findText("Key file"))
    assert "key file" in w.form.auth_hint.text()


def test_six_destinations_show_without_scrolling(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    w.form.allowlist.setPlainText("\n".join(f".site{i}.example.net" for i in range(6)))
    QApplication.processEvents()
    assert w.form.allowlist.verticalScrollBar().maximum() == 0


def test_no_table_trap_for_the_keyboard(qtbot, tmp_path):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    assert isinstance(w.sensors.table, QTableView)
    assert not w.sensors.table.tabKeyNavigation()


@pytest.fixture
def dark(monkeypatch):
    from gui import theme

    app = QApplication.instance()
    palette, style = app.palette(), app.style().name()
    monkeypatch.setenv(theme.THEME_ENV, "dark")
    theme.apply(app)
    yield app
    app.setStyle(style)
    app.setPalette(palette)


def test_in_the_dark_scheme_an_unticked_box_and_a_disabled_field_are_plain_to_see(qtbot, tmp_path, dark):
    w = active(qtbot, open_window(qtbot, project(22), tmp_path))
    box = w.form.allow_wide
    assert not box.isChecked()
    window = dark.palette().color(dark.palette().ColorRole.Window).lightness()
    image = box.grab().toImage()
    indicator = [image.pixelColor(x, y).lightness() for x in range(box.height()) for y in range(box.height())]
    assert max(indicator) - window > 60  # the box's outline stands out from the window
    enabled, disabled = w.form.host, w.form.key_path  # key path: disabled while logging in by password
    w.form.auth.setCurrentIndex(w.form.auth.findText("Password"))
    assert not disabled.isEnabled()
    middle = QPoint(disabled.width() - 4, disabled.height() // 2)  # past the text, on the field's own colour
    assert disabled.grab().toImage().pixelColor(middle) != enabled.grab().toImage().pixelColor(middle)


def test_the_sheet_is_refused_while_sensors_would_be_told_a_loopback_address(qtbot, tmp_path):
    tunnel = project(2222, sensor_host="")  # SSH through a tunnel on 127.0.0.1; no address for sensors yet
    w = active(qtbot, open_window(qtbot, tunnel, tmp_path))
    seen = answer_dialogs(("OK", None))
    sheet_action = next(a for a in w.findChildren(QAction) if a.text() == "Export commissioning &sheet…")
    sheet_action.trigger()
    assert seen.titles == ["The sheet cannot be made"]
    assert "The SSH host 127.0.0.1 is a loopback address" in seen.texts[0]
    assert "fill in “Address sensors use”" in seen.texts[0]
    w.form.sensor_host.setText("127.0.0.1")
    qtbot.waitUntil(lambda: not w.form.errors["proxy.sensor_host"].isHidden())
    assert "127.0.0.1 is a loopback address: sensors cannot reach the proxy there" in (
        w.form.errors["proxy.sensor_host"].text()
    )


def test_the_sites_azure_endpoints_are_typed_into_the_form_checked_and_saved(qtbot, tmp_path):
    w = open_window(qtbot, make_project(Sensor("Boiler", "10.0.0.1")), tmp_path)
    field = w.form.endpoints
    qtbot.mouseClick(field.viewport(), Qt.MouseButton.LeftButton)
    QTest.keyClicks(field, "elsewhere.example")
    error = w.form.errors["proxy.endpoints"]
    qtbot.waitUntil(lambda: not error.isHidden())
    assert error.text() == "elsewhere.example is not in the destinations: sensors could not reach it"
    field.selectAll()
    QTest.keyClicks(field, "contoso-hub.azure-devices.net")
    qtbot.waitUntil(error.isHidden)
    assert w.project().proxy.endpoints == ("contoso-hub.azure-devices.net",)


def test_an_endpoint_list_is_imported_into_the_destinations_from_the_form(qtbot, tmp_path):
    w = open_window(qtbot, make_project(Sensor("Boiler", "10.0.0.1")), tmp_path)
    listed = tmp_path / "endpoints.json"
    listed.write_text('["contoso-hub.azure-devices.net", "login.microsoftonline.com"]')
    seen = answer_next(choose_file(listed), press(QMessageBox.StandardButton.Ok))
    qtbot.mouseClick(w.form.import_list, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(seen.titles) == 2)
    assert seen.titles[1] == "Endpoint list imported"
    assert "Added 1: login.microsoftonline.com; 1 already let through." in seen.texts[1]
    assert w.project().proxy.allowlist[-1] == "login.microsoftonline.com"
    listed.write_text("fine.azure-devices.net\nbad host\n")
    before = w.project().proxy.allowlist
    seen = answer_next(choose_file(listed), press(QMessageBox.StandardButton.Ok))
    qtbot.mouseClick(w.form.import_list, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(seen.titles) == 2)
    assert seen.titles[1] == "The endpoint list cannot be used"
    assert "endpoints.json, line 2: 'bad host' is not a domain name" in seen.texts[1]
    assert w.project().proxy.allowlist == before


def test_a_sensor_is_marked_as_22x_by_its_check_box_and_the_sheet_follows(qtbot, tmp_path):
    from core import sheet
    from gui.sensor_model import V22

    w = open_window(qtbot, make_project(Sensor("Boiler", "10.0.0.1"), Sensor("Turbine", "10.0.0.2")), tmp_path)
    table = w.sensors.table
    table.setFocus()
    table.setCurrentIndex(w.sensors.filter.index(1, V22))
    QTest.keyClick(table, Qt.Key.Key_Space)  # a check box cell toggles with Space, as with the mouse
    assert [s.software.value for s in w.project().sensors] == ["legacy", "22.x+"]
    assert [r.where for r in sheet.rows(w.project())] == [sheet.WHERE[s.software] for s in w.project().sensors]
    trigger(w, "Undo Edit 22.x+ of Turbine")  # Edit ▸ Undo, named after the change
    assert [s.software.value for s in w.project().sensors] == ["legacy", "legacy"]
