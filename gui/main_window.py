"""The main window: the sensor table beside the proxy form, preview, apply and server status."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from heapq import nlargest
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from core import projectfile
from core.model import Problem, Project, Sensor, SshTarget, plural, sensor_label, validate
from gui import theme
from gui.lazy_page import LazyPage
from gui.operations import Op
from gui.proxy_form import ProxyForm
from gui.sensor_model import ADDRESS, ENABLED, NAME, NOTES, STATE, SensorTableModel
from gui.sensor_view import EmptyHint, SensorView

# Loaded on first use, not while the window starts: the pages nobody has opened yet, dialogs, CSV, the
# commissioning sheet, the keyring, SSH and print support (tests/unit/test_architecture.py holds this).
if TYPE_CHECKING:
    from core import csvio
    from core.remote.hostkeys import KnownHosts
    from gui.apply_panel import ApplyPanel
    from gui.preview import PreviewPane
    from gui.server_actions import ServerActions
    from gui.status_view import StatusView
    from gui.worker import Job

MAX_RECENT = 8
FALLBACK_KEYS = {QKeySequence.StandardKey.Quit: "Ctrl+Q", QKeySequence.StandardKey.HelpContents: "F1"}
STATUS_REFRESH_MS = 15_000
PROJECT_FILTER = "sensorproxy projects (*.toml)"
CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"
SHEET_FILTER = "PDF (*.pdf);;CSV (*.csv)"
CELL_PADDING = 12  # a table cell's text margins, with room to spare
T = TypeVar("T")


def empty_project() -> Project:
    return Project(site="New site", ssh=SshTarget(host="", user="root"))


def _read_project(path: Path) -> Project:
    """The project file parsed, and every sensor checked once so that showing it finds the checks cached."""
    project = projectfile.load(path)
    validate(project)
    return project


class MainWindow(QMainWindow):
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
        self.filter = SensorView(self.model)

        self.table = QTableView()
        self.table.setModel(self.filter)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the project's order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        # Tab leaves the table for the form, as in any form; arrow keys move between cells.
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        # Qt's fit-to-contents reads up to 1,000 rows through the model at every sort, filter and edit
        # (0.1-0.2 s with 10,000 sensors): it fits the On column from the rows in view (all alike), and
        # _fit_columns fits address and state from the model's strings.
        header.setResizeContentsPrecision(0)
        header.setSectionResizeMode(ENABLED, QHeaderView.ResizeMode.ResizeToContents)
        for column in (NAME, NOTES):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self._fit_timer = QTimer(self, singleShot=True, interval=0)  # once per burst of changes
        self._fit_timer.timeout.connect(self._fit_columns)
        self.model.problemsChanged.connect(self._fit_timer.start)  # after every insert, removal or edit
        self.model.dataChanged.connect(lambda *_: self._fit_timer.start())  # and new states from the server
        self._ages = QTimer(self, interval=30_000)  # the State column's "3 min ago" stays true
        self._ages.timeout.connect(self.model.tick)
        self._ages.start()
        self._fit_columns()
        self.table.setAccessibleName("Sensors")
        self.table.selectionModel().currentChanged.connect(self._show_cell_problem)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter sensors (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter sensors")
        self._filter_timer = QTimer(self, singleShot=True, interval=120)  # typing stays smooth on big tables
        self._filter_timer.timeout.connect(lambda: self.filter.set_filter(self.search.text()))
        self.search.textChanged.connect(self._filter_timer.start)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.table)
        self.empty_hint = EmptyHint()
        left_layout.addWidget(self.empty_hint)

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
        self.split.addWidget(left)
        self.split.addWidget(self.tabs)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.setCentralWidget(self.split)

        self._known_hosts = known_hosts
        self._server: ServerActions | None = None
        self._reading: Job | None = None  # the file or rows being read whose result is still wanted
        self._watch_status = False
        self.status_timer = QTimer(self, interval=STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self._refresh_status)
        self.status_timer.start()
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        self.model.problemsChanged.connect(self._refresh_timer.start)
        self.undo.cleanChanged.connect(self._update_title)
        self._menus()
        self.empty_hint.connect_actions(self.actions_by_name)
        self.model.rowsInserted.connect(self._show_empty_hint)
        self.model.rowsRemoved.connect(self._show_empty_hint)
        self.model.modelReset.connect(self._show_empty_hint)
        self._show_empty_hint()
        QWidget.setTabOrder(self.search, self.table)  # then the pages' tabs and the form, left to right
        self._validity = ""
        self.statusBar().messageChanged.connect(self._message_cleared)
        self.resize(1280, 800)
        if geometry := self.settings.value("window/geometry"):
            self.restoreGeometry(QByteArray(geometry))
        if split := self.settings.value("window/split"):
            self.split.restoreState(QByteArray(split))
        if path:
            self._remember_recent(path)
        # The keyring loads after the window shows: it takes longer than everything else at start-up.
        QTimer.singleShot(0, self.refresh_password_state)
        self.refresh()

    def _fit_columns(self) -> None:
        """Address and state as wide as their widest text in any row, measured for the longest strings."""
        metrics, header = self.table.fontMetrics(), self.table.horizontalHeader()
        rows = range(self.model.rowCount())
        for column, texts in (
            (ADDRESS, [s.address for s in self.model.sensors()]),
            (STATE, {self.model.state(row) for row in rows}),
        ):
            widest = max((metrics.horizontalAdvance(t) for t in nlargest(8, texts, key=len)), default=0)
            header.resizeSection(column, max(widest + CELL_PADDING, header.sectionSizeHint(column)))

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

    def load(self, project: Project, path: Path | None) -> None:
        """Show another project: table, form, undo history and preview start over."""
        self._base = project
        self.path = path
        self.model.reset(project.sensors, project.proxy.allow_wide_ranges)
        self._reading = None  # whatever is still being read belonged to the previous project
        self.undo.clear()
        self.form.set_project(project)
        self._form_dirty = False
        self._forget_plan()
        if path:
            self._remember_recent(path)
        self.refresh()
        self.refresh_password_state()

    def _show_empty_hint(self) -> None:
        self.empty_hint.setVisible(self.model.rowCount() == 0)

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

            if credentials.identity(credentials.Kind.PROXY, project) != self._password_identity:
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
        from core.credentials import Kind

        project = self.project()
        self._password_identity = credentials.identity(Kind.PROXY, project)
        secure = credentials.secure_backend_available()
        stored = bool(project.proxy.auth_user) and credentials.get(Kind.PROXY, project) is not None
        self.form.password.set_state(stored=stored, secure=secure, why_not=credentials.store_description())

    def forget_proxy_password(self) -> None:
        from core import credentials
        from core.credentials import Kind

        project = self.project()
        credentials.forget(Kind.PROXY, project)
        if self._server is not None:
            self._server.cache.pop(credentials.identity(Kind.PROXY, project), None)
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

    def _show_cell_problem(self) -> None:
        index = self.table.currentIndex()
        tip = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
        if tip:
            row = self.filter.mapToSource(index).row()
            self.statusBar().showMessage(f"{sensor_label(row + 1, self.model.sensor(row).name)}: {tip}")

    # --- menus ----------------------------------------------------------------------------------
    def _menus(self) -> None:
        bar = self.menuBar()
        toolbar = QToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(toolbar)

        file_menu = bar.addMenu("&File")
        new = self._action(file_menu, "&New", QKeySequence.StandardKey.New, self.new_project, "new")
        opened = self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, self.open_project, "open")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._fill_recent()
        saved = self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, self.save, "save")
        self._action(file_menu, "Save &As…", QKeySequence.StandardKey.SaveAs, self.save_as)
        file_menu.addSeparator()
        import_csv = self._action(file_menu, "&Import CSV…", QKeySequence("Ctrl+I"), self.import_csv)
        self._action(file_menu, "&Export CSV…", QKeySequence("Ctrl+E"), self.export_csv)
        file_menu.addSeparator()
        self._action(file_menu, "Export commissioning &sheet…", None, self.export_sheet)
        self._action(file_menu, "&Print commissioning sheet…", QKeySequence.StandardKey.Print, self.print_sheet)
        self._action(file_menu, "Export offline &kit…", None, self.export_kit)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        edit = bar.addMenu("&Edit")
        undo = self.undo.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([undo, redo])
        edit.addSeparator()
        add = self._action(edit, "&Add sensor", QKeySequence("Ctrl+Shift+N"), self.add_sensor, "add")
        delete = self._action(edit, "&Delete sensors", QKeySequence.StandardKey.Delete, self.delete_selected, "delete")
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.table.addAction(delete)
        paste = self._action(edit, "&Paste rows", QKeySequence("Ctrl+Shift+V"), self.paste_rows)
        self._action(edit, "&Find", QKeySequence.StandardKey.Find, self.search.setFocus)

        proxy = bar.addMenu("&Proxy")
        self.server_actions = [
            self._action(
                proxy, "&Test connection", QKeySequence("Ctrl+T"), lambda: self.server.run(Op.TEST), "connect"
            ),
            self._action(proxy, "&Preview changes", QKeySequence("F5"), lambda: self.server.run(Op.PLAN), "preview"),
            self._action(proxy, "&Apply", QKeySequence("Ctrl+Return"), lambda: self.server.run(Op.APPLY), "apply"),
        ]
        proxy.addSeparator()
        self.server_actions += [
            self._action(proxy, "&Rollback…", None, lambda: self.server.run(Op.ROLLBACK)),
            self._action(proxy, "Re&move from server…", None, lambda: self.server.run(Op.REMOVE)),
        ]
        proxy.addSeparator()
        status = self._action(proxy, "Server &status", QKeySequence("F6"), lambda: self.server.run(Op.STATUS), "status")
        self.server_actions.append(status)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&How sensorproxy works", QKeySequence.StandardKey.HelpContents, self.how_it_works)
        self._action(help_menu, "&About", None, self.about)

        self.actions_by_name = {"add": add, "paste": paste, "import": import_csv}
        toolbar.addActions([new, opened, saved])
        toolbar.addSeparator()
        toolbar.addActions([add, delete])
        toolbar.addSeparator()
        toolbar.addActions([*self.server_actions[:3], status])

    def _action(
        self,
        menu: QMenu,
        text: str,
        key: QKeySequence | QKeySequence.StandardKey | None,
        slot: Callable[[], object],
        icon: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if key is not None:
            keys = QKeySequence.keyBindings(key) if isinstance(key, QKeySequence.StandardKey) else [key]
            if not keys and isinstance(key, QKeySequence.StandardKey) and key in FALLBACK_KEYS:
                keys = [QKeySequence(FALLBACK_KEYS[key])]  # a standard key the platform leaves unbound (Quit, bare X11)
            action.setShortcuts(keys)
        if icon:
            action.setIcon(theme.icon(icon))
        # triggered(bool checked) would land in a slot's first parameter (a path, say): slots get nothing.
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _busy(self, busy: bool) -> None:
        for action in self.server_actions:
            action.setEnabled(not busy)

    def how_it_works(self) -> None:
        from gui import dialogs

        dialogs.how_it_works(self)

    def about(self) -> None:
        from gui import dialogs

        dialogs.about(self)

    # --- sensors --------------------------------------------------------------------------------
    def add_sensor(self) -> None:
        self.search.clear()
        self.filter.set_filter("")  # now, not after the typing pause: the new row must be there to edit
        self.model.add([Sensor(name="", address="")])
        row = self.filter.mapFromSource(self.model.index(self.model.rowCount() - 1, NAME))
        self.table.setCurrentIndex(row)
        self.table.edit(row)

    def delete_selected(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        self.model.remove([self.filter.mapToSource(i).row() for i in selected])

    def paste_rows(self) -> None:
        """Rows copied from a spreadsheet (tab, comma or semicolon separated), as one undoable step."""
        from core import csvio

        text = QGuiApplication.clipboard().text()
        allow_wide, existing = self.form.allow_wide.isChecked(), self.model.sensors()
        self._read(
            "the clipboard",
            lambda: csvio.parse(text, allow_wide=allow_wide, existing=existing),
            lambda result: self._add_rows(result, "the clipboard", "Paste"),
            "Cannot paste",
        )

    def import_csv(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import sensors from CSV", "", CSV_FILTER)
        if name:
            self.import_path(Path(name))

    def import_path(self, path: Path) -> None:
        from core import csvio

        allow_wide, existing = self.form.allow_wide.isChecked(), self.model.sensors()
        self._read(
            path.name,
            lambda: csvio.read(path, skip_bad_rows=True, allow_wide=allow_wide, existing=existing),
            lambda result: self._add_rows(result, path.name, "Import"),
            "Cannot import",
        )

    def _read(self, source: str, read: Callable[[], T], then: Callable[[T], object], cannot: str) -> None:
        """`read` parses and checks sensors in a worker thread (10,000 take 0.1-0.2 s, which would
        freeze the window); `then` gets the result here, unless another project was loaded meanwhile."""
        from gui.worker import Job

        job = Job(lambda _emit, _cancelled: read(), self)
        self._reading = job
        before = self.statusBar().currentMessage()
        self.statusBar().showMessage(f"Reading {source}…")
        job.succeeded.connect(lambda result: self._finish_reading(job, before, lambda: then(result)))
        job.failed.connect(
            lambda exc: self._finish_reading(
                job, before, lambda: QMessageBox.warning(self, cannot, getattr(exc, "strerror", None) or str(exc))
            )
        )
        job.finished.connect(job.deleteLater)
        job.start()

    def _finish_reading(self, job: Job, message: str, then: Callable[[], object]) -> None:
        if job is self._reading:  # else another project was loaded, or another read started, meanwhile
            self._reading = None
            self.statusBar().showMessage(message)  # until `then` says what came of it
            then()

    def _add_rows(self, result: csvio.CsvResult, source: str, verb: str) -> None:
        good, bad = result.sensors, result.errors
        if not good and not bad:
            QMessageBox.information(self, f"{verb} sensors", f"{source} holds no sensor rows.")
            return
        if bad:
            listed = "\n".join(str(e) for e in bad[:20]) + (f"\n… and {len(bad) - 20} more" if len(bad) > 20 else "")
            wrong = f"{plural(len(bad), 'row')} of {source} {'is' if len(bad) == 1 else 'are'} wrong:"
            box = QMessageBox(QMessageBox.Icon.Warning, f"{verb} sensors", wrong)
            box.setDetailedText(listed)
            box.setInformativeText(listed if len(bad) <= 5 else "Show Details to see every row.")
            add = box.addButton(
                f"{verb} the {len(good)} good {'row' if len(good) == 1 else 'rows'}", QMessageBox.ButtonRole.AcceptRole
            )
            box.addButton(QMessageBox.StandardButton.Cancel)
            add.setEnabled(bool(good))
            box.exec()
            if box.clickedButton() is not add:
                return
        self.model.add(list(good), f"{verb} {plural(len(good), 'sensor')}")
        self.statusBar().showMessage(f"{verb}ed {plural(len(good), 'sensor')} from {source}", 5000)

    def export_csv(self) -> None:
        if path := self._ask_path("Export sensors as CSV", "sensors.csv", CSV_FILTER):
            from core import csvio

            self._export(path, lambda: csvio.write(self.model.sensors(), path), f"Sensors written to {path}")

    def _ask_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """Where to export, proposed beside the project file."""
        start = str(self.path.with_name(f"{self.path.stem}-{suffix}")) if self.path else f"sensorproxy-{suffix}"
        name, _ = QFileDialog.getSaveFileName(self, title, start, file_filter)
        return Path(name) if name else None

    def _export(self, path: Path, write: Callable[[], object], done: str) -> bool:
        """Run `write` (an atomic write); say `done` when it worked, or why it did not."""
        try:
            write()
        except OSError as exc:
            QMessageBox.warning(self, "Cannot export", f"{path}: {exc.strerror or exc}")
            return False
        self.statusBar().showMessage(done, 8000)
        return True

    # --- the commissioning sheet ----------------------------------------------------------------
    def _sheet_password(self, project: Project) -> str | None:
        """The proxy password, only when the engineer wants it printed (asked each time; No by default)."""
        if not project.proxy.auth_enabled:
            return None
        answer = QMessageBox.question(
            self,
            "Proxy password on the sheet?",
            "Print the proxy password on the sheet? Anyone who finds the sheet can then use the proxy.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return None
        from core.credentials import Kind
        from gui.server_actions import Abandoned

        try:
            return self.server.secret(Kind.PROXY, project)
        except Abandoned:
            return None

    def valid_project(self) -> Project | None:
        """The project, or None after telling the engineer what to fix first."""
        project = self.project()
        if problems := validate(project):
            shown = "\n".join(f"• {p}" for p in problems[:12])
            more = f"\n… and {len(problems) - 12} more" if len(problems) > 12 else ""
            QMessageBox.warning(self, "Fix the project first", f"{shown}{more}")
            return None
        return project

    def _sheet_project(self) -> Project | None:
        """The project, if it is valid and gives sensors an address they can use; else say why."""
        if (project := self.valid_project()) is None:
            return None
        from core import sheet

        try:
            sheet.proxy_host(project)
        except sheet.SheetError as exc:
            QMessageBox.warning(self, "The sheet cannot be made", f"{str(exc)[0].upper()}{str(exc)[1:]}.")
            return None
        return project

    def export_sheet(self) -> bool:
        if (project := self._sheet_project()) is None:
            return False
        path = self._ask_path("Export commissioning sheet", "sheet.pdf", SHEET_FILTER)
        if path is None:
            return False
        password = self._sheet_password(project)
        from core import sheet
        from gui import sheet_export

        def write() -> None:
            if path.suffix.lower() == ".csv":
                sheet.write_csv(path, project, password)
            else:
                sheet_export.write_pdf(sheet.to_html(project, password, generated=sheet.made_by(self._source())), path)

        return self._export(path, write, f"Commissioning sheet written to {path}")

    def print_sheet(self) -> None:
        if (project := self._sheet_project()) is None:
            return
        from core import sheet
        from gui import sheet_export

        html = sheet.to_html(project, self._sheet_password(project), generated=sheet.made_by(self._source()))

        sheet_export.print_sheet(html, self)

    def export_kit(self) -> bool:
        """The zip for servers the laptop cannot reach: files, the password hash and apply.sh."""
        if (project := self.valid_project()) is None:
            return False
        path = self._ask_path("Export offline kit", "kit.zip", "Zip archives (*.zip)")
        if path is None:
            return False
        from core import atomicfile, kit
        from gui.server_actions import Abandoned

        if not self.server.password_confirmed():
            return False
        try:
            passwords = self.server.passwords(project, ask=True)
        except Abandoned:
            return False
        from core.sheet import now_stamp

        data = kit.build(project, passwords, made=now_stamp())
        done = f"Offline kit written to {path}; on the server run: sudo sh apply.sh"
        return self._export(path, lambda: atomicfile.write_bytes(path, data), done)

    def _source(self) -> str:
        return self.path.name if self.path else "an unsaved project"

    # --- files ----------------------------------------------------------------------------------
    def new_project(self) -> None:
        if self._may_discard():
            self.load(empty_project(), None)

    def open_project(self) -> None:
        if not self._may_discard():
            return
        name, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path) -> None:
        """Read and check the project in a worker thread; it replaces the current one when it is read."""
        self._read(path.name, lambda: _read_project(path), lambda p: self.load(p, path), "Cannot open the project")

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        try:
            projectfile.save(self.project(), self.path)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot save", f"{self.path}: {exc.strerror or exc}")
            return False
        self._base = self.project()
        self._form_dirty = False
        self.undo.setClean()
        self._remember_recent(self.path)
        self._update_title()
        return True

    def save_as(self) -> bool:
        name, _ = QFileDialog.getSaveFileName(self, "Save project", str(self._proposed_path()), PROJECT_FILTER)
        if not name:
            return False
        self.path = Path(name).with_suffix(".toml") if not name.endswith(".toml") else Path(name)
        return self.save()

    def _proposed_path(self) -> Path:
        """The project's own file, else a name from the site in the last project's folder (or Documents)."""
        if self.path:
            return self.path
        recent = [Path(p).parent for p in self.recent_files() if Path(p).parent.is_dir()]
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        folder = recent[0] if recent else Path(documents or Path.home())
        stem = re.sub(r"[^\w.-]+", "-", self.form.site.text().strip()).strip("-.").lower() or "site"
        return folder / f"{stem}.toml"

    def _remember_recent(self, path: Path) -> None:
        recent = [str(path.resolve())] + [p for p in self.recent_files() if p != str(path.resolve())]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        if hasattr(self, "recent_menu"):
            self._fill_recent()

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent") or []
        return [value] if isinstance(value, str) else list(value)  # QSettings gives one entry as a str

    def _open_recent(self, path: Path) -> None:
        if self._may_discard():
            self.open_path(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for i, name in enumerate(self.recent_files(), start=1):
            action = self.recent_menu.addAction(f"&{i} {name}")
            action.triggered.connect(lambda _=False, p=name: self._open_recent(Path(p)))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    def _may_discard(self) -> bool:
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "Save the changes to this project first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._server is not None and self._server.busy:
            QMessageBox.information(
                self, "A server task is running", "Wait until it finishes; the window closes safely after that."
            )
            event.ignore()
            return
        if self._may_discard():
            from gui.worker import Job

            self._reading = None
            for job in self.findChildren(Job):  # rows still being read: a thread left running would crash
                job.wait()
            self.settings.setValue("window/geometry", self.saveGeometry())
            self.settings.setValue("window/split", self.split.saveState())
            event.accept()
        else:
            event.ignore()
