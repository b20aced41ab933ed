"""The window's files: new, open, save and recent projects, and sensors added from a CSV file or the
clipboard, read and checked in a worker thread."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core import projectfile
from core.model import Project, SshTarget, plural, validate

if TYPE_CHECKING:
    from core import csvio
    from gui.main_window import MainWindow
    from gui.worker import Job

MAX_RECENT = 8
PROJECT_FILTER = "sensorproxy projects (*.toml)"
CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"
T = TypeVar("T")


def empty_project() -> Project:
    return Project(site="New site", ssh=SshTarget(host="", user="root"))


def _read_project(path: Path) -> Project:
    """The project file parsed, and every sensor checked once so that showing it finds the checks cached."""
    project = projectfile.load(path)
    validate(project)
    return project


class ProjectFiles:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.reading: Job | None = None  # the read whose result is still wanted

    def paste_rows(self) -> None:
        """Rows copied from a spreadsheet (tab, comma or semicolon separated), as one undoable step."""
        from core import csvio

        text = QGuiApplication.clipboard().text()
        allow_wide, existing = self.w.form.allow_wide.isChecked(), self.w.model.sensors()
        self._read(
            "the clipboard",
            lambda: csvio.parse(text, allow_wide=allow_wide, existing=existing),
            lambda result: self._add_rows(result, "the clipboard", "Paste"),
            "Cannot paste",
        )

    def import_csv(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.w, "Import sensors from CSV", "", CSV_FILTER)
        if name:
            self.import_path(Path(name))

    def import_path(self, path: Path) -> None:
        from core import csvio

        allow_wide, existing = self.w.form.allow_wide.isChecked(), self.w.model.sensors()
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

        job = Job(lambda _emit, _cancelled: read(), self.w)
        self.reading = job
        before = self.w.statusBar().currentMessage()
        self.w.statusBar().showMessage(f"Reading {source}…")
        job.succeeded.connect(lambda result: self._finish_reading(job, before, lambda: then(result)))
        job.failed.connect(
            lambda exc: self._finish_reading(
                job, before, lambda: QMessageBox.warning(self.w, cannot, getattr(exc, "strerror", None) or str(exc))
            )
        )
        job.finished.connect(job.deleteLater)
        job.start()

    def _finish_reading(self, job: Job, message: str, then: Callable[[], object]) -> None:
        if job is self.reading:  # else another project was loaded, or another read started, meanwhile
            self.reading = None
            self.w.statusBar().showMessage(message)  # until `then` says what came of it
            then()

    def _add_rows(self, result: csvio.CsvResult, source: str, verb: str) -> None:
        good, bad = result.sensors, result.errors
        if not good and not bad:
            QMessageBox.information(self.w, f"{verb} sensors", f"{source} holds no sensor rows.")
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
        self.w.model.add(list(good), f"{verb} {plural(len(good), 'sensor')}")
        self.w.statusBar().showMessage(f"{verb}ed {plural(len(good), 'sensor')} from {source}", 5000)

    def new_project(self) -> None:
        if self.may_discard():
            self.w.load(empty_project(), None)

    def open_project(self) -> None:
        if not self.may_discard():
            return
        name, _ = QFileDialog.getOpenFileName(self.w, "Open project", "", PROJECT_FILTER)
        if name:
            self.open_path(Path(name))

    def open_path(self, path: Path) -> None:
        """Read and check the project in a worker thread; it replaces the current one when it is read."""
        self._read(path.name, lambda: _read_project(path), lambda p: self.w.load(p, path), "Cannot open the project")

    def save(self) -> bool:
        if self.w.path is None:
            return self.save_as()
        try:
            projectfile.save(self.w.project(), self.w.path)
        except OSError as exc:
            QMessageBox.warning(self.w, "Cannot save", f"{self.w.path}: {exc.strerror or exc}")
            return False
        self.w.mark_saved()
        self.remember_recent(self.w.path)
        return True

    def save_as(self) -> bool:
        name, _ = QFileDialog.getSaveFileName(self.w, "Save project", str(self._proposed_path()), PROJECT_FILTER)
        if not name:
            return False
        self.w.path = Path(name).with_suffix(".toml") if not name.endswith(".toml") else Path(name)
        return self.save()

    def _proposed_path(self) -> Path:
        """The project's own file, else a name from the site in the last project's folder (or Documents)."""
        if self.w.path:
            return self.w.path
        recent = [Path(p).parent for p in self.recent_files() if Path(p).parent.is_dir()]
        documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        folder = recent[0] if recent else Path(documents or Path.home())
        stem = re.sub(r"[^\w.-]+", "-", self.w.form.site.text().strip()).strip("-.").lower() or "site"
        return folder / f"{stem}.toml"

    def remember_recent(self, path: Path) -> None:
        recent = [str(path.resolve())] + [p for p in self.recent_files() if p != str(path.resolve())]
        self.w.settings.setValue("recent", recent[:MAX_RECENT])
        if hasattr(self.w, "recent_menu"):  # not while the window is being made
            self.fill_recent()

    def recent_files(self) -> list[str]:
        value = self.w.settings.value("recent") or []
        return [value] if isinstance(value, str) else list(value)  # QSettings gives one entry as a str

    def _open_recent(self, path: Path) -> None:
        if self.may_discard():
            self.open_path(path)

    def fill_recent(self) -> None:
        self.w.recent_menu.clear()
        for i, name in enumerate(self.recent_files(), start=1):
            action = self.w.recent_menu.addAction(f"&{i} {name}")
            action.triggered.connect(lambda _=False, p=name: self._open_recent(Path(p)))
        self.w.recent_menu.setEnabled(bool(self.recent_files()))

    def may_discard(self) -> bool:
        if not self.w.is_modified():
            return True
        answer = QMessageBox.question(
            self.w,
            "Unsaved changes",
            "Save the changes to this project first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard
