"""File ▸ Make offline package bundle…: the window's face of `sensorproxy bundle`. The download runs in a
worker thread with a progress bar; Cancel stops it and keeps what arrived (the next run continues), and
a finished bundle becomes the Apply tab's bundle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core import releases
from core.bundle import BundleError
from gui.worker import Job


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    name: str


class Stopped(Exception):
    """Cancel was pressed during a download."""


class BundleDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, use: Callable[[Path], None] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make offline package bundle")
        self.use = use or (lambda folder: None)
        self.job: Job | None = None
        self.release = QComboBox()
        for r in releases.RELEASES.values():
            self.release.addItem(f"{r.title} ({r.name})", r.name)
        self.release.setCurrentIndex(self.release.findData("bookworm"))
        self.release.setAccessibleName("Server release")
        self.arch = QComboBox()
        self.arch.addItems(list(releases.ARCHES))
        self.arch.setAccessibleName("Server architecture")
        self.folder = QLineEdit()
        self.folder.setAccessibleName("Bundle folder")
        self.folder.setPlaceholderText("an empty folder, or an earlier bundle to refresh")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._pick_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        folder_label = QLabel("Bundle &folder:")
        folder_label.setBuddy(self.folder)
        self.mirror = QLineEdit()
        self.mirror.setAccessibleName("Mirror")
        self.mirror.setPlaceholderText("the distribution's own archive")
        self.keyring = QLineEdit()
        self.keyring.setAccessibleName("Archive keys")
        self.keyring.setPlaceholderText("the keys sensorproxy ships (Debian's, Ubuntu's)")
        self.keyring.setToolTip("An OpenPGP keyring file, for a site's own mirror signed with its own key")
        self.no_security = QCheckBox("Leave security updates out (for a mirror that lacks them)")
        form = QFormLayout()
        form.addRow("Server &release:", self.release)
        form.addRow("&Architecture:", self.arch)
        form.addRow(folder_label, row)
        form.addRow("&Mirror (optional):", self.mirror)
        form.addRow("Archive &keys (optional):", self.keyring)
        form.addRow("", self.no_security)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status = QLabel(
            "Downloads Squid and everything it needs for that release, checked against the archive's keys. "
            "Needs internet on this computer, not on the server."
        )
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.make = self.buttons.addButton("&Make bundle", QDialogButtonBox.ButtonRole.ApplyRole)
        self.make.clicked.connect(self.start)
        self.cancel = self.buttons.addButton("Stop", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._stop)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(620, self.sizeHint().height())

    def _pick_folder(self) -> None:
        if folder := QFileDialog.getExistingDirectory(self, "Bundle folder", self.folder.text()):
            self.folder.setText(folder)

    def start(self) -> None:
        if not (where := self.folder.text().strip()):
            self.status.setText("Choose the folder the bundle goes to.")
            self.folder.setFocus()
            return
        release, arch = str(self.release.currentData()), self.arch.currentText()
        mirror, security = self.mirror.text().strip() or None, not self.no_security.isChecked()
        keyring = Path(self.keyring.text().strip()) if self.keyring.text().strip() else None

        def work(emit: Callable[[Any], None], cancelled: Callable[[], bool]) -> Any:
            from core import bundle_build  # the archive code and OpenPGP load when a bundle is made

            def progress(done: int, total: int, name: str) -> None:
                if cancelled():
                    raise Stopped
                emit(Progress(done, total, name))

            return bundle_build.build(
                Path(where), release, arch, mirror=mirror, security=security, keyring=keyring, progress=progress
            )

        self.job = Job(work, self)
        self.job.reported.connect(self._progress)
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(self._failed)
        self._busy(True)
        self.status.setText(f"Fetching the signed index of {self.release.currentText()}…")
        self.job.start()

    def _busy(self, busy: bool) -> None:
        self.make.setEnabled(not busy)
        self.cancel.setEnabled(busy)
        for field in (self.release, self.arch, self.folder, self.browse, self.mirror, self.keyring, self.no_security):
            field.setEnabled(not busy)

    def _stop(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping…")

    def _progress(self, p: Progress) -> None:
        scale = 1024  # in KiB: a progress bar holds an int
        self.bar.setRange(0, max(p.total // scale, 1))
        self.bar.setValue(p.done // scale)
        if p.name:
            self.status.setText(f"{p.done / 1e6:.1f} of {p.total / 1e6:.1f} MB: {Path(p.name).name}")

    def _done(self, made: Any) -> None:
        self._busy(False)
        b = made.bundle
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.status.setText(
            f"{len(b.packages)} packages ({b.size / 1e6:.1f} MB) in {b.folder}, signed by "
            f"{'; '.join(made.signers)} and each checked by its SHA-256. Assumed on every server of the "
            f"release: {', '.join(made.assumed)}. It is now the Apply tab's bundle."
        )
        self.use(b.folder)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        if isinstance(exc, Stopped):
            self.status.setText("Stopped. What was downloaded is kept: Make bundle continues from there.")
        elif isinstance(exc, BundleError | OSError):
            self.status.setText(f"No bundle was made: {exc}")
        else:
            raise exc

    def reject(self) -> None:
        if self.job is not None and self.job.isRunning():
            self.job.cancel()
            self.job.wait()
        super().reject()
