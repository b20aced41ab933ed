"""The passwords a run needs, as the window gets them: what the engineer typed, then this session's
answers, then the keyring, then one dialog. Kept in memory for this session only; a password the server
refused is asked for again instead of being taken from the keyring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QMessageBox

from core import credentials
from core.credentials import Kind
from core.model import AuthMethod, Project
from core.remote.session import SshSecrets
from core.remote.setup import Passwords
from gui.dialogs import LoginDialog

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class Abandoned(Exception):
    """The engineer closed a password dialog: the run does not go on."""


class WindowSecrets:
    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.cache: dict[str, str] = {}  # identity -> secret, this session only
        self.distrust: set[str] = set()  # identities whose stored secret was refused: ask instead
        self.told_insecure = False

    def password_confirmed(self) -> bool:
        """A proxy password typed in the form goes to a server only once it was typed twice alike."""
        field = self.window.form.password
        if problem := field.problem():
            field.again.setFocus()
            QMessageBox.warning(self.window, "The proxy password is not confirmed", problem)
            return False
        return True

    def ssh(self, project: Project) -> SshSecrets:
        """What is known already; anything else is asked for once the server has answered as the SSH
        server it should be (SecretNeeded ends that attempt and the next one has it)."""
        ssh = project.ssh
        return SshSecrets(
            password=self.known(Kind.SSH, project) if ssh.auth is AuthMethod.PASSWORD else None,
            key_passphrase=self.known(Kind.PASSPHRASE, project) if ssh.key_path else None,
            sudo_password=self.known(Kind.SUDO, project) if ssh.sudo else None,
        )

    def passwords(self, project: Project, *, ask: bool) -> Passwords:
        """The proxy user's and the parent proxy's passwords: typed in the form, known, or (`ask`) asked."""
        proxy = project.proxy
        wanted = []
        if proxy.auth_enabled:
            field = self.window.form.password
            if typed := field.typed():  # kept for this session, and in the keyring when Remember is ticked
                self._keep(Kind.PROXY, project, typed, remember=field.remember.isChecked())
                if field.remember.isChecked():
                    self.window.refresh_password_state()
            wanted.append(Kind.PROXY)
        if proxy.parent and proxy.parent.user:
            wanted.append(Kind.PARENT)
        if ask:
            self.ask(project, wanted)
        return Passwords(
            proxy=self.known(Kind.PROXY, project) if Kind.PROXY in wanted else None,
            parent=self.known(Kind.PARENT, project) if Kind.PARENT in wanted else None,
        )

    def known(self, kind: Kind, project: Project) -> str | None:
        """This session's answer, else the keyring's (unless the server refused it)."""
        ident = credentials.identity(kind, project)
        if ident in self.cache:
            return self.cache[ident]
        if ident not in self.distrust and (stored := credentials.get(kind, project)):
            self.cache[ident] = stored
            return stored
        return None

    def secret(self, kind: Kind, project: Project) -> str:
        """A secret, asked for when it is not known."""
        self.ask(project, [kind])
        secret = self.known(kind, project)
        assert secret is not None
        return secret

    def ask(self, project: Project, kinds: list[Kind], refused: str = "") -> None:
        """One dialog for every secret of `kinds` that is not known yet (all of them after a refusal)."""
        missing = [k for k in kinds if refused or self.known(k, project) is None]
        if not missing:
            return
        secure = credentials.secure_backend_available()
        note = ""
        if not secure and not self.told_insecure:
            note = f"{credentials.NO_SECURE_STORE}; these are kept in memory until sensorproxy closes."
            self.told_insecure = True
        asks = {kind: credentials.describe(kind, project) for kind in missing}
        dialog = LoginDialog(asks, secure=secure, refused=refused, note=note)
        dialog.setParent(self.window, dialog.windowFlags())
        if dialog.exec() != QDialog.DialogCode.Accepted:
            raise Abandoned
        for kind, secret in dialog.answers().items():
            self._keep(kind, project, secret, remember=dialog.remember.isChecked())

    def _keep(self, kind: Kind, project: Project, secret: str, *, remember: bool) -> None:
        ident = credentials.identity(kind, project)
        self.cache[ident] = secret
        self.distrust.discard(ident)
        if remember:
            try:
                credentials.store(kind, project, secret)
            except credentials.NoSecureStorage as exc:
                self.window.statusBar().showMessage(f"Not remembered: {exc}", 8000)

    def refused(self, kinds: tuple[Kind, ...], project: Project) -> None:
        """Secrets the server refused are asked for again, not taken from the keyring."""
        for kind in kinds:
            ident = credentials.identity(kind, project)
            self.cache.pop(ident, None)
            self.distrust.add(ident)
