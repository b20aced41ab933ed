"""The main window: sensor table, proxy form and the preview of the managed Squid files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QFont, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import projectfile, squid
from core.model import AuthMethod, Project, Sensor, SshTarget, validate
from gui.sensor_model import ADDRESS, ENABLED, NAME, NOTES, STATE, SensorTableModel


class ProxyForm(QWidget):
    """SSH target and proxy settings; `project(base)` returns `base` with the form's values."""

    def __init__(self, project: Project, on_change: object) -> None:
        super().__init__()
        form = QFormLayout(self)
        ssh, proxy = project.ssh, project.proxy
        self.host = QLineEdit(ssh.host)
        self.ssh_port = _spin(ssh.port)
        self.user = QLineEdit(ssh.user)
        self.auth = QComboBox()
        self.auth.addItems([m.value for m in AuthMethod])
        self.auth.setCurrentText(ssh.auth.value)
        self.key_path = QLineEdit(ssh.key_path)
        self.sudo = QCheckBox("use sudo on the server")
        self.sudo.setChecked(ssh.sudo)
        self.port = _spin(proxy.port)
        self.auth_enabled = QCheckBox("sensors log in to the proxy")
        self.auth_enabled.setChecked(proxy.auth_enabled)
        self.auth_user = QLineEdit(proxy.auth_user)
        self.connect_only = QCheckBox("only HTTPS tunnels (CONNECT to port 443)")
        self.connect_only.setChecked(proxy.connect_only)
        self.allowlist_enabled = QCheckBox("only these destinations:")
        self.allowlist_enabled.setChecked(proxy.allowlist_enabled)
        self.allowlist = QPlainTextEdit("\n".join(proxy.allowlist))
        self.allowlist.setTabChangesFocus(True)
        self.allowlist.setMaximumHeight(110)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #c62828")
        rows = [
            ("Proxy server (SSH host)", self.host),
            ("SSH port", self.ssh_port),
            ("SSH user", self.user),
            ("SSH login", self.auth),
            ("Key file", self.key_path),
            ("", self.sudo),
            ("Proxy port", self.port),
            ("", self.auth_enabled),
            ("Proxy user", self.auth_user),
            ("", self.connect_only),
            ("", self.allowlist_enabled),
            ("Destinations", self.allowlist),
            ("", self.problems),
        ]
        for label, widget in rows:
            widget.setAccessibleName(label or getattr(widget, "text", lambda: "")())
            form.addRow(label, widget)
        for line in (self.host, self.user, self.key_path, self.auth_user):
            line.textChanged.connect(on_change)
        for spin in (self.ssh_port, self.port):
            spin.valueChanged.connect(on_change)
        for box in (self.sudo, self.auth_enabled, self.connect_only, self.allowlist_enabled):
            box.toggled.connect(on_change)
        self.auth.currentTextChanged.connect(on_change)
        self.allowlist.textChanged.connect(on_change)

    def project(self, base: Project) -> Project:
        ssh = SshTarget(
            host=self.host.text().strip(),
            user=self.user.text().strip(),
            port=self.ssh_port.value(),
            auth=AuthMethod(self.auth.currentText()),
            key_path=self.key_path.text().strip(),
            sudo=self.sudo.isChecked(),
        )
        domains = tuple(d.strip() for d in self.allowlist.toPlainText().splitlines() if d.strip())
        proxy = replace(
            base.proxy,
            port=self.port.value(),
            auth_enabled=self.auth_enabled.isChecked(),
            auth_user=self.auth_user.text().strip(),
            connect_only=self.connect_only.isChecked(),
            allowlist_enabled=self.allowlist_enabled.isChecked(),
            allowlist=domains,
        )
        return replace(base, ssh=ssh, proxy=proxy)


def _spin(value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(1, 65535)
    spin.setValue(value)
    return spin


class MainWindow(QMainWindow):
    def __init__(self, project: Project, path: Path | None = None) -> None:
        super().__init__()
        self.path = path
        self._base = project
        self._form_dirty = False
        self.undo = QUndoStack(self)
        self.model = SensorTableModel(project.sensors, self.undo, project.proxy.allow_wide_ranges)
        self.filter = QSortFilterProxyModel(self)
        self.filter.setSourceModel(self.model)
        self.filter.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.setFilterKeyColumn(-1)

        self.table = QTableView()
        self.table.setModel(self.filter)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for column in (ENABLED, ADDRESS, STATE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (NAME, NOTES):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Sensors")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter sensors")
        self.search.setAccessibleName("Filter sensors")
        self.search.textChanged.connect(self.filter.setFilterFixedString)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.search)
        left_layout.addWidget(self.table)

        self.form = ProxyForm(project, self._form_changed)
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setFont(QFont("monospace"))
        self.preview.setAccessibleName("Preview of the Squid configuration")
        tabs = QTabWidget()
        tabs.addTab(self.form, "Proxy")
        tabs.addTab(self.preview, "Preview")
        self.tabs = tabs
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.setCentralWidget(split)

        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        self.model.problemsChanged.connect(self._refresh_timer.start)
        self.undo.cleanChanged.connect(self._update_title)
        self._menus()
        self.refresh()
        self.resize(1200, 720)

    # --- project --------------------------------------------------------------------------------
    def project(self) -> Project:
        return replace(self.form.project(self._base), sensors=self.model.sensors())

    def is_modified(self) -> bool:
        return self._form_dirty or not self.undo.isClean()

    def _form_changed(self, *_args: object) -> None:
        self._form_dirty = True
        self._update_title()
        self._refresh_timer.start()

    def refresh(self) -> None:
        """Validation summary and preview, from core."""
        project = self.project()
        problems = validate(project)
        self.form.problems.setText("\n".join(str(p) for p in problems if p.section != "sensors"))
        if problems:
            self.statusBar().showMessage(f"{len(problems)} problem(s): {problems[0]}")
            self.preview.setPlainText(
                "The configuration cannot be shown until these are fixed:\n\n" + "\n".join(str(p) for p in problems)
            )
        else:
            enabled = sum(s.enabled for s in project.sensors)
            self.statusBar().showMessage(f"Valid: {enabled} of {len(project.sensors)} sensors enabled")
            rendered = squid.render(project, squid.stock_conf())
            self.preview.setPlainText("".join(f"# ==> {f.path} <==\n{f.content}\n" for f in rendered.files))
        self._update_title()

    def _update_title(self, *_args: object) -> None:
        name = self.path.name if self.path else "Untitled"
        self.setWindowTitle(f"{name}[*] — {self._base.site} — sensorproxy")
        self.setWindowModified(self.is_modified())

    # --- actions ----------------------------------------------------------------------------------
    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, self.save)
        self._action(file_menu, "Save &As…", QKeySequence.StandardKey.SaveAs, self.save_as)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = self.menuBar().addMenu("&Edit")
        undo = self.undo.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([undo, redo])
        edit.addSeparator()
        self._action(edit, "&Add sensor", QKeySequence("Ctrl+N"), self.add_sensor)
        self._action(edit, "&Delete", QKeySequence.StandardKey.Delete, self.delete_selected)

    def _action(self, menu: object, text: str, key: object, slot: object) -> QAction:
        action = QAction(text, self)
        action.setShortcut(key)  # type: ignore[arg-type]
        action.triggered.connect(slot)
        menu.addAction(action)  # type: ignore[attr-defined]
        return action

    def add_sensor(self) -> None:
        self.model.add([Sensor(name="", address="")])
        row = self.filter.mapFromSource(self.model.index(self.model.rowCount() - 1, NAME))
        self.table.setCurrentIndex(row)
        self.table.edit(row)

    def delete_selected(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        rows = [self.filter.mapToSource(i).row() for i in selected]
        self.model.remove(rows)

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        try:
            projectfile.save(self.project(), self.path)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot save", f"{self.path}: {exc.strerror or exc}")
            return False
        self._form_dirty = False
        self.undo.setClean()
        self._update_title()
        return True

    def save_as(self) -> bool:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save project", str(self.path or ""), "sensorproxy projects (*.toml)"
        )
        if not name:
            return False
        self.path = Path(name)
        return self.save()

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
        if self._may_discard():
            event.accept()
        else:
            event.ignore()
