"""The window's exports: the sensors as CSV, the commissioning sheet (PDF, CSV or printed) and the
offline kit, each written atomically and said when done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.model import Project
from gui.project_files import CSV_FILTER

if TYPE_CHECKING:
    from gui.bundle_dialog import BundleDialog
    from gui.main_window import MainWindow

SHEET_FILTER = "PDF (*.pdf);;CSV (*.csv)"


class Exports:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.bundle_dialog: BundleDialog | None = None

    def export_csv(self) -> None:
        if path := self._ask_path("Export sensors as CSV", "sensors.csv", CSV_FILTER):
            from core import csvio

            self._export(path, lambda: csvio.write(self.w.model.sensors(), path), f"Sensors written to {path}")

    def _ask_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """Where to export, proposed beside the project file."""
        start = str(self.w.path.with_name(f"{self.w.path.stem}-{suffix}")) if self.w.path else f"sensorproxy-{suffix}"
        name, _ = QFileDialog.getSaveFileName(self.w, title, start, file_filter)
        return Path(name) if name else None

    def _export(self, path: Path, write: Callable[[], object], done: str) -> bool:
        """Run `write` (an atomic write); say `done` when it worked, or why it did not."""
        try:
            write()
        except OSError as exc:
            QMessageBox.warning(self.w, "Cannot export", f"{path}: {exc.strerror or exc}")
            return False
        self.w.statusBar().showMessage(done, 8000)
        return True

    def _sheet_password(self, project: Project) -> str | None:
        """The proxy password, only when the engineer wants it printed (asked each time; No by default)."""
        if not project.proxy.auth_enabled:
            return None
        answer = QMessageBox.question(
            self.w,
            "Proxy password on the sheet?",
            "Print the proxy password on the sheet? Anyone who finds the sheet can then use the proxy.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return None
        from core.credentials import Declined
        from core.secret_kind import Kind

        try:
            return self.w.secrets.secret(Kind.PROXY, project)
        except Declined:
            return None

    def _sheet_project(self) -> Project | None:
        """The project, if it is valid and gives sensors an address they can use; else say why."""
        if (project := self.w.valid_project()) is None:
            return None
        from core import sheet

        try:
            sheet.proxy_host(project)
        except sheet.SheetError as exc:
            QMessageBox.warning(self.w, "The sheet cannot be made", f"{str(exc)[0].upper()}{str(exc)[1:]}.")
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

        sheet_export.print_sheet(html, self.w)

    def export_kit(self) -> bool:
        """The zip for servers the laptop cannot reach: files, the password hash and apply.sh."""
        if (project := self.w.valid_project()) is None:
            return False
        path = self._ask_path("Export offline kit", "kit.zip", "Zip archives (*.zip)")
        if path is None:
            return False
        from core import atomicfile, kit
        from core.credentials import Declined

        if not self.w.secrets.password_confirmed():
            return False
        try:
            passwords = self.w.secrets.passwords(project, ask=True)
        except Declined:
            return False
        from core.sheet import now_stamp

        data = kit.build(project, passwords, made=now_stamp())
        done = f"Offline kit written to {path}; on the server run: sudo sh apply.sh"
        return self._export(path, lambda: atomicfile.write_bytes(path, data), done)

    def make_bundle(self) -> None:
        """Squid's packages for a server with no repository in reach, made on this computer."""
        from gui.bundle_dialog import BundleDialog

        if self.bundle_dialog is None:
            self.bundle_dialog = BundleDialog(self.w, use=lambda folder: self.w.panel.bundle.setText(str(folder)))
        self.bundle_dialog.open()

    def _source(self) -> str:
        return self.w.path.name if self.w.path else "an unsaved project"
