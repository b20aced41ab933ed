"""The window's side of core's secret service (core/credentials.py): a proxy password typed in the form
comes first, and what is still missing is asked for in one dialog. Answers are kept in memory for this
session only; a password the server refused is asked for again instead of being taken from the keyring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QMessageBox

from core import credentials
from core.model import Project
from core.secret_kind import Kind
from gui.dialogs import LoginDialog

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class WindowSecrets(credentials.Secrets):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(self._dialog, warn=lambda text: window.statusBar().showMessage(text, 8000))
        self.window = window
        self.told_insecure = False

    def password_confirmed(self) -> bool:
        """A proxy password typed in the form goes to a server only once it was typed twice alike."""
        field = self.window.form.password
        if problem := field.problem():
            field.again.setFocus()
            QMessageBox.warning(self.window, "The proxy password is not confirmed", problem)
            return False
        return True

    def passwords(self, project: Project, *, ask: bool = True) -> dict[Kind, str]:
        """As core's, with the password typed in the form first: kept for this session, and in the
        keyring when Remember is ticked."""
        field = self.window.form.password
        if project.proxy.auth_enabled and (typed := field.typed()):
            self.keep(Kind.PROXY, project, typed, remember=field.remember.isChecked())
            if field.remember.isChecked():
                self.window.refresh_password_state()
        return super().passwords(project, ask=ask)

    def _dialog(self, asks: dict[Kind, str], refused: str) -> credentials.Answer | None:
        """One dialog for all of `asks`; None when the engineer closed it."""
        secure = credentials.secure_backend_available()
        note = ""
        if not secure and not self.told_insecure:
            note = f"{credentials.NO_SECURE_STORE}; these are kept in memory until sensorproxy closes."
            self.told_insecure = True
        dialog = LoginDialog(asks, secure=secure, refused=refused, note=note)
        dialog.setParent(self.window, dialog.windowFlags())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return credentials.Answer(dialog.answers(), remember=dialog.remember.isChecked())
