"""The main window: the sensor table beside the proxy form, preview, apply and server status."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QWidget,
)

from core.model import Problem, Project, plural, validate
from core.secret_kind import Kind
from gui import menus, theme
from gui.exports import Exports
from gui.lazy_page import LazyPage
from gui.operations import Op
from gui.project_files import ProjectFiles
from gui.proxy_form import ProxyForm
from gui.sensor_model import SensorTableModel
from gui.sensor_pane import SensorPane

# Loaded on first use, not while the window starts: the pages nobody has opened yet, dialogs, CSV, the
# commissioning sheet, the keyring, SSH and print support (tests/unit/test_architecture.py holds this).
if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    from core.remote.hostkeys import KnownHosts
    from gui.apply_panel import ApplyPanel
    from gui.preview import PreviewPane
    from gui.secrets import WindowSecrets
    from gui.server_actions import ServerActions
    from gui.status_view import StatusView

STATUS_REFRESH_MS = 15_000


class MainWindow(QMainWindow):
    # made by gui.menus.build
    recent_menu: QMenu
    server_actions: list[QAction]  # enabled only while no server run is going
    actions_by_name: dict[str, QAction]  # the ones the empty table's hint offers

    def __init__(
        self,
        project: Project,
        path: Path | None = None,
        *,
        settings: QSettings | None = None,
        known_hosts: KnownHosts | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings()
        self.path = path
        self._base = project
        self._form_dirty = False
        self._password_identity: str | None = None
        self.undo = QUndoStack(self)
        self.model = SensorTableModel(project.sensors, self.undo, project.proxy.allow_wide_ranges)
        self.sensors = SensorPane(self.model)
        self.sensors.message.connect(self.statusBar().showMessage)

        self.form = ProxyForm(project)
        self.form.changed.connect(self._form_changed)
        self.form.password.forgetRequested.connect(self.forget_proxy_password)
        form_scroll = QScrollArea()
        form_scroll.setWidget(self.form)
        form_scroll.setWidgetResizable(True)
        form_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # not a Tab stop; it scrolls to the focused field
        self.preview_page = LazyPage(self._make_preview)
        self.apply_page = LazyPage(self._make_panel)
        self.status_page = LazyPage(self._make_status_view)
        self.tabs = QTabWidget()
        self.tabs.addTab(form_scroll, "Proxy")
        self.tabs.addTab(self.preview_page, theme.icon("preview"), "Preview")
        self.tabs.addTab(self.apply_page, theme.icon("apply"), "Apply")
        self.tabs.addTab(self.status_page, theme.icon("status"), "Server status")
        self.split = QSplitter()
        self.split.addWidget(self.sensors)
        self.split.addWidget(self.tabs)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.setCentralWidget(self.split)

        self._known_hosts = known_hosts
        self._server: ServerActions | None = None
        self._secrets: WindowSecrets | None = None
        self.files = ProjectFiles(self)
        self.exports = Exports(self)
        self._watch_status = False
        self.status_timer = QTimer(self, interval=STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self._refresh_status)
        self.status_timer.start()
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        self.model.problemsChanged.connect(self._refresh_timer.start)
        self.undo.cleanChanged.connect(self._update_title)
        menus.build(self)
        self.sensors.empty_hint.connect_actions(self.actions_by_name)
        self._validity = ""
        self.statusBar().messageChanged.connect(self._message_cleared)
        self.resize(1280, 800)
        if geometry := self.settings.value("window/geometry"):
            self.restoreGeometry(QByteArray(geometry))
        if split := self.settings.value("window/split"):
            self.split.restoreState(QByteArray(split))
        if path:
            self.files.remember_recent(path)
        # The keyring loads after the window shows: it takes longer than everything else at start-up.
        QTimer.singleShot(0, self.refresh_password_state)
        self.refresh()

    # --- the pages beside the form, made when first shown or used ---------------------------------
    @property
    def preview(self) -> PreviewPane:
        return cast("PreviewPane", self.preview_page.content())

    @property
    def panel(self) -> ApplyPanel:
        return cast("ApplyPanel", self.apply_page.content())

    @property
    def status_view(self) -> StatusView:
        return cast("StatusView", self.status_page.content())

    def _make_preview(self) -> QWidget:
        from gui.preview import PreviewPane

        pane = PreviewPane()
        project = self.project()
        self._show_config(pane, project, validate(project))
        return pane

    def _make_panel(self) -> QWidget:
        from gui.apply_panel import ApplyPanel

        return ApplyPanel()

    def _make_status_view(self) -> QWidget:
        from gui.status_view import StatusView

        return StatusView()

    @property
    def secrets(self) -> WindowSecrets:
        """Made on first use: the dialogs and the keyring load then."""
        if self._secrets is None:
            from gui.secrets import WindowSecrets

            self._secrets = WindowSecrets(self)
        return self._secrets

    @property
    def server(self) -> ServerActions:
        """Made on first use: SSH (paramiko) and bcrypt load then, not while the window starts."""
        if self._server is None:
            from gui.server_actions import ServerActions

            self._server = ServerActions(self, self._known_hosts)
            self._server.busyChanged.connect(self._busy)
            self._server.finished.connect(self._server_finished)
        return self._server

    def _server_finished(self, name: str, ok: bool) -> None:
        if name == Op.STATUS:
            self._watch_status = ok  # keep the view current only while reading the server works

    def _refresh_status(self) -> None:
        """While Server status is open, read it again now and then: sensors keep connecting."""
        showing = self.tabs.currentWidget() is self.status_page and self.isVisible()
        # Quietly skipped while the project has problems: a timer must not open "fix it first" dialogs.
        if self._watch_status and showing and not self.server.busy and not validate(self.project()):
            self.server.run(Op.STATUS)

    # --- the project ------------------------------------------------------------------------------
    def project(self) -> Project:
        return replace(self.form.project(self._base), sensors=self.model.sensors())

    def is_modified(self) -> bool:
        return self._form_dirty or not self.undo.isClean()

    def mark_saved(self) -> None:
        """What the window shows is now what its file holds."""
        self._base = self.project()
        self._form_dirty = False
        self.undo.setClean()
        self._update_title()

    def load(self, project: Project, path: Path | None) -> None:
        """Show another project: table, form, undo history and preview start over."""
        self._base = project
        self.path = path
        self.model.reset(project.sensors, project.proxy.allow_wide_ranges)
        self.files.reading = None  # whatever is still being read belonged to the previous project
        self.undo.clear()
        self.form.set_project(project)
        self._form_dirty = False
        self._forget_plan()
        if path:
            self.files.remember_recent(path)
        self.refresh()
        self.refresh_password_state()

    def _form_changed(self) -> None:
        self.model.set_allow_wide(self.form.allow_wide.isChecked())
        self._form_dirty = True
        self._forget_plan()
        self._update_title()
        self._refresh_timer.start()

    def _forget_plan(self) -> None:
        if self.preview_page.built:
            self.preview.forget_plan()

    def refresh(self) -> None:
        """Validation summary, field problems and (once the preview exists) the config, all from core."""
        project = self.project()
        problems = validate(project)
        self.form.show_problems(problems)
        if problems:
            self._validity = f"{plural(len(problems), 'problem')} — first: {problems[0]}"
        else:
            enabled = sum(s.enabled for s in project.sensors)
            self._validity = f"Valid: {enabled} of {len(project.sensors)} sensors enabled"
        self.statusBar().showMessage(self._validity)
        if self.preview_page.built:
            self._show_config(self.preview, project, problems)
        self._update_title()
        if self._password_identity is not None:  # None until the keyring state is first read
            from core import credentials

            if credentials.identity(Kind.PROXY, project) != self._password_identity:
                self.refresh_password_state()

    @staticmethod
    def _show_config(pane: PreviewPane, project: Project, problems: list[Problem]) -> None:
        if problems:
            pane.show_files(
                "# The configuration cannot be shown until these are fixed:\n" + "\n".join(f"# {p}" for p in problems)
            )
            return
        from core import squid

        rendered = squid.render(project, squid.stock_conf())
        pane.show_files("".join(f"# ==> {f.path} <==\n{f.content}\n" for f in rendered.files))

    def refresh_password_state(self) -> None:
        """Whether the proxy user's password is in the keyring (the password itself is never shown)."""
        from core import credentials

        project = self.project()
        self._password_identity = credentials.identity(Kind.PROXY, project)
        secure = credentials.secure_backend_available()
        stored = bool(project.proxy.auth_user) and credentials.get(Kind.PROXY, project) is not None
        self.form.password.set_state(stored=stored, secure=secure, why_not=credentials.store_description())

    def forget_proxy_password(self) -> None:
        self.secrets.forget(Kind.PROXY, self.project())
        self.refresh_password_state()
        self.statusBar().showMessage("The proxy password was removed from the keyring", 5000)

    def _message_cleared(self, text: str) -> None:
        """A menu's status tips clear the status bar; the validity summary comes back after them."""
        if not text:
            self.statusBar().showMessage(self._validity)

    def _update_title(self, *_args: object) -> None:
        name = self.path.name if self.path else "Untitled"
        self.setWindowTitle(f"{name}[*] — {self.form.site.text() or 'no site'} — sensorproxy")
        self.setWindowModified(self.is_modified())

    def show_tab(self, widget: QWidget) -> None:
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            inner = page.widget() if isinstance(page, QScrollArea) else page
            if widget in (page, inner) or (isinstance(page, LazyPage) and page.built and page.content() is widget):
                self.tabs.setCurrentIndex(i)

    def _busy(self, busy: bool) -> None:
        for action in self.server_actions:
            action.setEnabled(not busy)

    def how_it_works(self) -> None:
        from gui import dialogs

        dialogs.how_it_works(self)

    def about(self) -> None:
        from gui import dialogs

        dialogs.about(self)

    def valid_project(self) -> Project | None:
        """The project, or None after telling the engineer what to fix first."""
        project = self.project()
        if problems := validate(project):
            shown = "\n".join(f"• {p}" for p in problems[:12])
            more = f"\n… and {len(problems) - 12} more" if len(problems) > 12 else ""
            QMessageBox.warning(self, "Fix the project first", f"{shown}{more}")
            return None
        return project

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._server is not None and self._server.busy:
            QMessageBox.information(
                self, "A server task is running", "Wait until it finishes; the window closes safely after that."
            )
            event.ignore()
            return
        if self.files.may_discard():
            from gui.worker import Job

            self.files.reading = None
            for job in self.findChildren(Job):  # rows still being read: a thread left running would crash
                job.wait()
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/split", self.split.saveState())
            event.accept()
        else:
            event.ignore()
