"""The Proxy menu's work: connect, preview, apply, status, rollback, remove, each in a worker thread.

Secrets come from what the engineer typed, then the keyring, then a dialog, and are kept in memory for
this session only. Whatever the server turns out to need (a host-key decision, a sudo password, a key
passphrase) ends the run with core's typed error; it is asked for here and the run starts again.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QMessageBox, QProgressDialog

from core import bundle, credentials
from core.credentials import Kind
from core.model import AuthMethod, Project
from core.remote import events, setup
from core.remote.errors import (
    AuthenticationFailed,
    Cancelled,
    HostKeyChanged,
    HostKeyUnknown,
    RemoteError,
    SecretNeeded,
    SudoFailed,
)
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSecrets, SshSession
from gui.dialogs import HostKeyDialog, SecretDialog, host_key_changed
from gui.worker import Job

if TYPE_CHECKING:
    from gui.main_window import MainWindow


@dataclass(frozen=True)
class Operation:
    name: str
    title: str  # "{host}" is filled in
    in_panel: bool  # shows steps in the Apply panel
    confirm: str = ""


OPERATIONS = {
    op.name: op
    for op in (
        Operation("test", "Testing the connection to {host}", False),
        Operation("plan", "Comparing with {host}", False),
        Operation("status", "Reading the status of {host}", False),
        Operation("apply", "Applying the project to {host}", True),
        Operation(
            "rollback",
            "Rolling back {host}",
            True,
            "Put back the Squid files from before the last change on {host}?",
        ),
        Operation(
            "remove",
            "Removing sensorproxy's rules from {host}",
            True,
            "Remove sensorproxy's rules from {host}? The sensors will no longer be let through; Squid keeps running.",
        ),
    )
}


PROGRESS_DELAY_MS = 400


class Abandoned(Exception):
    """The engineer closed a password dialog: the run does not start."""


class ServerActions(QObject):
    busyChanged = Signal(bool)
    finished = Signal(str, bool)  # operation, succeeded

    def __init__(self, window: MainWindow, known_hosts: KnownHosts | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.known_hosts = known_hosts or KnownHosts.default()
        self.job: Job | None = None
        self.session: SshSession | None = None  # the run's connection, aborted by Cancel while connecting
        self.progress: QProgressDialog | None = None
        self.accepted: dict[tuple[str, int], str] = {}  # fingerprints accepted in the dialog, for the retry
        self.cache: dict[str, str] = {}  # identity -> secret, this session only
        self.distrust: set[str] = set()  # identities whose stored secret was refused: ask instead
        self.told_insecure = False
        self.window.panel.cancelRequested.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        if self.session is not None and self.session.client is None:
            self.session.abort()  # still connecting: give up the connection now, not after its timeout

    # --- starting a run -------------------------------------------------------------------------
    def run(self, name: str, *, confirmed: bool = False) -> None:
        """Start an operation; `confirmed` when it is the retry of one the engineer already confirmed."""
        op = OPERATIONS[name]
        if self.job is not None:
            self.window.statusBar().showMessage("Another server task is still running", 5000)
            return
        if (project := self.window.valid_project()) is None:
            return
        host = project.ssh.host
        if op.confirm and not confirmed and not self._confirm(op.confirm.format(host=host)):
            return
        offline = None
        if name == "apply" and (where := self.window.panel.bundle.text().strip()):
            try:
                offline = bundle.load(Path(where))  # checked before anything connects
            except bundle.BundleError as exc:
                QMessageBox.warning(self.window, "The package bundle cannot be used", str(exc))
                return
        try:
            ssh = self._ssh_secrets(project)
            passwords = self.passwords(project, ask=False)  # what is missing is asked once the server answers
        except Abandoned:
            self.window.statusBar().showMessage("Cancelled: a password was not given", 5000)
            return
        session = SshSession(
            project.ssh,
            self.known_hosts,
            ssh,
            accept_fingerprint=self.accepted.get((host, project.ssh.port)),
        )
        job = Job(_work(name, project, session, passwords, offline), self)
        self.job, self.session = job, session
        title = op.title.format(host=host)
        if op.in_panel:
            self.window.panel.start(title)
            self.window.show_tab(self.window.panel)
            job.event.connect(self.window.panel.on_event)
        else:
            self._show_progress(title)
        self.window.statusBar().showMessage(f"{title}…")
        job.succeeded.connect(lambda result: self._succeeded(op, project, result))
        job.failed.connect(lambda exc: self._failed(op, project, exc))
        job.finished.connect(job.deleteLater)
        self.busyChanged.emit(True)
        job.start()

    def _show_progress(self, title: str) -> None:
        """Runs outside the Apply panel show a progress window with Cancel once they take a moment (a
        server that does not answer takes up to its timeout); quick ones finish before it appears."""
        progress = QProgressDialog(f"{title}…", "Cancel", 0, 0, self.window)
        progress.setWindowTitle("sensorproxy")
        progress.setWindowModality(Qt.WindowModality.NonModal)
        progress.setMinimumDuration(PROGRESS_DELAY_MS)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(self.cancel)
        progress.setValue(0)  # starts its appearance timer
        self.progress = progress

    def _confirm(self, question: str) -> bool:
        answer = QMessageBox.question(
            self.window,
            "Change the server?",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    # --- secrets --------------------------------------------------------------------------------
    def _ssh_secrets(self, project: Project) -> SshSecrets:
        """What is known already; anything else is asked for once the server has answered as the SSH
        server it should be (SecretNeeded ends that run and the retry has it)."""
        password = self.secret(Kind.SSH, project, ask=False) if project.ssh.auth is AuthMethod.PASSWORD else None
        return SshSecrets(
            password=password,
            key_passphrase=self.secret(Kind.PASSPHRASE, project, ask=False) if project.ssh.key_path else None,
            sudo_password=self.secret(Kind.SUDO, project, ask=False) if project.ssh.sudo else None,
        )

    def passwords(self, project: Project, *, ask: bool) -> setup.Passwords:
        proxy = project.proxy
        proxy_password = None
        if proxy.auth_enabled:
            field = self.window.form.password
            typed = field.typed()
            if typed:  # kept in the field for this session, and in the keyring when Remember is ticked
                self._keep(Kind.PROXY, project, typed, remember=field.remember.isChecked())
                if field.remember.isChecked():
                    self.window.refresh_password_state()
            proxy_password = self.secret(Kind.PROXY, project, ask=ask)
        parent = self.secret(Kind.PARENT, project, ask=ask) if proxy.parent and proxy.parent.user else None
        return setup.Passwords(proxy=proxy_password, parent=parent)

    def secret(self, kind: Kind, project: Project, *, ask: bool = True) -> str | None:
        """This session's answer, else the keyring's, else (when `ask`) a dialog."""
        ident = credentials.identity(kind, project)
        if ident in self.cache:
            return self.cache[ident]
        if ident not in self.distrust and (stored := credentials.get(kind, project)):
            self.cache[ident] = stored
            return stored
        if not ask:
            return None
        secure = credentials.secure_backend_available()
        note = ""
        if not secure and not self.told_insecure:
            note = f"{credentials.NO_SECURE_STORE}; this one is kept in memory until sensorproxy closes."
            self.told_insecure = True
        dialog = SecretDialog(credentials.describe(kind, project), secure=secure, note=note)
        dialog.setParent(self.window, dialog.windowFlags())
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.edit.text():
            raise Abandoned
        self._keep(kind, project, dialog.edit.text(), remember=dialog.remember.isChecked())
        return dialog.edit.text()

    def _keep(self, kind: Kind, project: Project, secret: str, *, remember: bool) -> None:
        ident = credentials.identity(kind, project)
        self.cache[ident] = secret
        self.distrust.discard(ident)
        if remember:
            try:
                credentials.store(kind, project, secret)
            except credentials.NoSecureStorage as exc:
                self.window.statusBar().showMessage(f"Not remembered: {exc}", 8000)

    def _refused(self, kinds: tuple[Kind, ...], project: Project) -> None:
        """Secrets the server refused are asked for again next time, not taken from the keyring."""
        for kind in kinds:
            ident = credentials.identity(kind, project)
            self.cache.pop(ident, None)
            self.distrust.add(ident)

    # --- outcomes -------------------------------------------------------------------------------
    def _done(self) -> None:
        self.job = self.session = None
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.busyChanged.emit(False)

    def _succeeded(self, op: Operation, project: Project, result: Any) -> None:
        self._done()
        host = project.ssh.host
        w = self.window
        if op.name == "plan":
            w.preview.show_plan(host, result)
            w.show_tab(w.preview)
            message = f"Compared with {host}: {'changes pending' if result.changed else 'up to date'}"
        elif op.name in ("status", "test"):
            w.status_view.show_status(host, result, project)
            rows, _ = result.connections(project)
            w.model.set_connections({seen.address: seen.result for seen in rows if seen.last})
            s = result.state
            message = (
                f"Connected to {project.ssh.user}@{host}: {s.os_name}, "
                f"Squid {s.squid_version or 'not installed'}{' (running)' if s.running else ''}"
            )
            if op.name == "status":
                w.show_tab(w.status_view)
        else:
            w.preview.forget_plan()
            message = _outcome_text(op.name, host, result)
            w.panel.finish(True, message)
        w.statusBar().showMessage(message)
        self.finished.emit(op.name, True)

    def _failed(self, op: Operation, project: Project, exc: Exception) -> None:
        self._done()
        if isinstance(exc, HostKeyUnknown):
            if HostKeyDialog(exc, self.window).exec() == QDialog.DialogCode.Accepted:
                self.accepted[(project.ssh.host, project.ssh.port)] = exc.fingerprint
                self.run(op.name, confirmed=True)
            else:
                self._report(op, exc, "The server's host key was not trusted; nothing was sent to it.")
        elif isinstance(exc, HostKeyChanged):
            self._report(op, exc, str(exc).split(". ", 1)[0] + ". Nothing was sent to the server.")
            host_key_changed(self.window, exc)
        elif isinstance(exc, SecretNeeded) and exc.kind in credentials.NEEDED:
            try:
                self.secret(credentials.NEEDED[exc.kind], project)
            except Abandoned:
                self._report(op, exc, f"Stopped: {exc}.")
            else:
                self.run(op.name, confirmed=True)
        elif isinstance(exc, Cancelled):
            self._report(op, exc, "Cancelled. Nothing on the server was changed.")
        elif isinstance(exc, RemoteError):
            if isinstance(exc, AuthenticationFailed):
                self._refused((Kind.SSH, Kind.PASSPHRASE), project)
            if isinstance(exc, SudoFailed):
                self._refused((Kind.SUDO,), project)
            self._report(op, exc, str(exc))
        else:
            detail = "".join(traceback.format_exception(exc))
            self._report(op, exc, f"An unexpected error stopped the run ({type(exc).__name__}).", detail)

    def _report(self, op: Operation, exc: BaseException, message: str, detail: str = "") -> None:
        """The same failure gets the same headline and words from every operation (and the CLI)."""
        w = self.window
        title = exc.title if isinstance(exc, RemoteError) else "An unexpected error"
        headed = message if message.startswith(title) else f"{title}: {message}"
        w.statusBar().showMessage(headed.splitlines()[0])
        if op.in_panel:
            if detail:
                w.panel.finish(False, headed, detail)
            else:
                w.panel.finish_error(exc, headed)
        else:
            # The headline in the box itself as well: many desktops show no title on message boxes.
            box = QMessageBox(QMessageBox.Icon.Warning, title, f"<b>{html.escape(title)}</b>", parent=w)
            box.setInformativeText(html.escape(message))
            box.exec()
        self.finished.emit(op.name, False)


def _work(
    name: str, project: Project, session: SshSession, passwords: setup.Passwords, offline: bundle.Bundle | None
) -> Any:
    def work(emit: events.Emit, cancelled: Callable[[], bool]) -> Any:
        try:
            if name == "apply":
                return setup.apply(project, session, passwords, emit=emit, cancel=cancelled, bundle=offline)
            if name == "plan":
                return setup.check(project, session, passwords)[0]
            if name in ("status", "test"):
                return setup.status(session)
            if name == "rollback":
                return setup.rollback(session, emit=emit)
            return setup.remove(session, emit=emit)
        finally:
            session.close()

    return work


def _outcome_text(name: str, host: str, outcome: setup.Outcome) -> str:
    took = f"({outcome.seconds:.1f} s, {outcome.round_trips} SSH commands)"
    if name == "apply":
        if outcome.changed:
            return f"Applied. Squid on {host} serves the new rules on port {outcome.plan.port}. {took}"
        return f"Nothing to change: {host} already runs this configuration. {took}"
    if not outcome.changed:
        return "Nothing to roll back." if name == "rollback" else "No sensorproxy rules were on the server."
    if name == "rollback":
        return f"Rolled back: {host} serves the previous configuration. {took}"
    return f"Removed sensorproxy's rules from {host}. {took}"
