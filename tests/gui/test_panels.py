"""The apply panel, the server status view and the theme, fed with core's own values."""

from __future__ import annotations

from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import QApplication

from core.model import Sensor
from core.remote.errors import ValidationFailed
from core.remote.events import STEPS, LogEvent, Status, StepEvent
from gui import theme
from gui.apply_panel import ApplyPanel
from gui.preview import ConfigHighlighter
from gui.status_view import StatusView
from tests.conftest import ROOT, make_project
from tests.unit.test_server_status import status_of


def test_apply_panel_follows_steps_and_shows_a_failure_with_details(qtbot):
    panel = ApplyPanel()
    qtbot.addWidget(panel)
    panel.start("Applying to 192.0.2.10")
    assert panel.cancel.isEnabled()
    assert all(panel.state(name) is None for name, _ in STEPS)
    panel.on_event(StepEvent("connect", Status.RUNNING, "Connect"))
    assert panel.state("connect") is Status.RUNNING
    panel.on_event(StepEvent("connect", Status.UNCHANGED, "root@192.0.2.10"))
    panel.on_event(StepEvent("write", Status.CHANGED, "", diff="+++ /etc/squid/conf.d/sensorproxy.conf\n+acl x\n"))
    panel.on_event(LogEvent("validate", "FATAL: Bungled /etc/squid/squid.conf line 9"))
    panel.on_event(StepEvent("validate", Status.FAILED, "FATAL: Bungled"))
    panel.on_event(StepEvent("write", Status.ROLLED_BACK, "the previous files are back"))
    assert panel.progress.value() == 3  # connect, write and validate have ended
    assert panel.items["write"].text(1) == "rolled back"
    assert "[validate] FATAL: Bungled" in panel.log.toPlainText()
    assert "+acl x" in panel.log.toPlainText()
    exc = ValidationFailed(["FATAL: Bungled /etc/squid/squid.conf line 9"])
    panel.finish(False, "Squid refused the configuration; the previous files are back.", f"ValidationFailed: {exc}")
    assert not panel.cancel.isEnabled()
    assert panel.outcome.text() == "Squid refused the configuration; the previous files are back."
    assert panel.details.isHidden()
    panel.details_button.click()
    assert not panel.details.isHidden()
    assert "ValidationFailed: squid -k parse refused" in panel.details.toPlainText()


def test_cancel_button_asks_once(qtbot):
    panel = ApplyPanel()
    qtbot.addWidget(panel)
    panel.start("Applying")
    with qtbot.waitSignal(panel.cancelRequested, timeout=1000):
        panel.cancel.click()
    assert not panel.cancel.isEnabled()
    assert panel.cancel.text() == "Cancelling…"


def test_status_view_marks_sensors_that_differ(qtbot):
    view = StatusView()
    qtbot.addWidget(view)
    server = status_of(Sensor("Old", "10.0.0.1"), Sensor("Both", "10.0.0.2"))
    project = make_project(Sensor("Both", "10.0.0.2"), Sensor("New", "10.0.0.3"))
    view.show_status("192.0.2.10", server, project, server.connections(project))
    assert view.fields["Squid"].text() == "5.7; running; enabled at boot"
    assert view.fields["Port"].text() == "3130: listening"
    assert "differs from the table in 2 sensors" in view.summary.text()
    rows = {
        view.table.item(r, 0).text(): view.table.item(r, 2).text() + "/" + view.table.item(r, 3).text()
        for r in range(view.table.rowCount())
    }
    assert rows == {"10.0.0.1": "yes/NO", "10.0.0.2": "yes/yes", "10.0.0.3": "NO/yes"}
    project = make_project(Sensor("Old", "10.0.0.1"), Sensor("Both", "10.0.0.2"))
    view.show_status("192.0.2.10", server, project, server.connections(project))
    assert "allows exactly the table's 2 enabled sensors" in view.summary.text()


def test_dark_scheme_is_applied_and_colours_follow_it(qapp, monkeypatch):
    light_error = theme.color("error").name()
    monkeypatch.setenv(theme.THEME_ENV, "dark")
    theme.apply(qapp)
    try:
        assert theme.is_dark()
        assert theme.color("error").name() != light_error
        assert QApplication.palette().color(QApplication.palette().ColorRole.Window).lightness() < 80
    finally:
        monkeypatch.setenv(theme.THEME_ENV, "light")
        theme.apply(qapp)
    assert not theme.is_dark()
    assert theme.color("error").name() == light_error


def test_every_icon_the_window_uses_exists():
    for name in (
        "app",
        "pending",
        "running",
        "changed",
        "unchanged",
        "skipped",
        "failed",
        "rolled-back",
        "add",
        "delete",
        "apply",
        "preview",
        "status",
        "new",
        "open",
        "save",
        "connect",
        "cancel",
    ):
        assert not theme.icon(name).isNull(), name


def test_a_broken_bundle_is_reported_before_anything_connects(qtbot, tmp_path):
    from tests.qt_helpers import answer_dialogs, open_window, trigger

    w = open_window(qtbot, ROOT / "resources" / "example" / "north-plant.toml", tmp_path)
    w.panel.bundle.setText(str(tmp_path))  # no bundle.json there
    seen = answer_dialogs(("OK", None))
    trigger(w, "Apply")
    assert seen.titles == ["The package bundle cannot be used"]
    assert "has no bundle.json" in seen.texts[0]
    assert not w.server.busy


def test_status_refresh_runs_only_while_watched_and_the_project_is_valid(qtbot, tmp_path, monkeypatch):
    from tests.qt_helpers import open_window

    w = open_window(qtbot, ROOT / "resources" / "example" / "north-plant.toml", tmp_path)
    started: list[str] = []
    monkeypatch.setattr(w.server, "run", started.append)
    w._refresh_status()
    assert started == []  # never read successfully yet
    w._server_finished("status", True)
    w._refresh_status()
    assert started == []  # the Server status tab is not the one shown
    w.show_tab(w.status_view)
    w._refresh_status()
    assert started == ["status"]
    w.form.host.setText("bad host!")
    w._refresh_status()
    assert started == ["status"]  # no dialog, no run, while the project has problems
    w._server_finished("status", False)
    w.form.host.setText("proxy.north-plant.example")
    w._refresh_status()
    assert started == ["status"]  # a failed read stops the refreshing


def test_the_preview_mutes_comments_and_sets_directives_in_bold(qtbot):
    doc = QTextDocument()
    highlighter = ConfigHighlighter(doc)
    doc.setPlainText("acl a src 10.0.0.1\n10.0.0.1/32 # sensor A\n+fdab::1/128 # sensor B\n# disabled sensor C\n")
    highlighter.rehighlight()  # now, rather than when the event loop gets to it

    def styled(line: int) -> list[tuple[str, bool, bool, bool]]:
        block = doc.findBlockByNumber(line)
        return [
            (
                block.text()[r.start : r.start + r.length],
                r.format.fontWeight() == QFont.Weight.Bold,
                r.format.foreground().color() == theme.color("muted"),
                r.format.background().color() == theme.color("added"),
            )
            for r in block.layout().formats()
        ]

    assert styled(0) == [("acl", True, False, False)]
    assert styled(1) == [("# sensor A", False, True, False)]
    assert styled(2) == [("+fdab::1/128 ", False, False, True), ("# sensor B", False, True, True)]
    assert styled(3) == [("# disabled sensor C", False, True, False)]
