"""The Proxy menu's work: connect, preview, apply, status, rollback, remove, each in a worker thread.

Secrets come from the window's `WindowSecrets` (gui/secrets.py). Whatever the server turns out to need (a
host-key decision, a password, a password it refused) ends that attempt with core's typed error; it is
asked for here and the run goes on with it.
"""

from __future__ import annotations

import html
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QMessageBox, QProgressDialog

from core import bundle, credentials, logs
from core.model import Project
from core.remote import events, outbound, setup
from core.remote.errors import (
    Cancelled,
    HostKeyChanged,
    HostKeyUnknown,
    PasswordRefused,
    RemoteError,
    SecretNeeded,
    SudoPasswordRefused,
)
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.secret_kind import Kind
from gui.dialogs import HostKeyDialog, host_key_changed
from gui.operations import OPERATIONS, Op, Operation
from gui.worker import Job, Work

if TYPE_CHECKING:
    from gui.main_window import MainWindow


PROGRESS_DELAY_MS = 400


class ServerActions(QObject):
    busyChanged = Signal(bool)
    finished = Signal(str, bool)  # operation, succeeded

    def __init__(self, window: MainWindow, known_hosts: KnownHosts | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.known_hosts = known_hosts or KnownHosts.default()
        self.job: Job | None = None
        self.op: Operation | None = None
        self.session: SshSession | None = None  # the run's connection, cut by Cancel where that is safe
        self.progress: QProgressDialog | None = None
        self.cancel_asked = False  # the engineer pressed Cancel during this run
        self.cancel_note = ""  # what Cancel does now, from core: "" cancels at once
        self.accepted: dict[tuple[str, int], str] = {}  # fingerprints accepted in the dialog, for the retry
        self.window.panel.cancelRequested.connect(self.cancel)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def cancel(self) -> None:
        """Cancel stops what can stop now; a change under way is said to be too late, at once."""
        if self.job is None or self.op is None:
            return
        if self.cancel_note:
            self._tell_cancel(self.cancel_note)
            if self.cancel_note == events.NOT_CANCELLED:
                return
        self.cancel_asked = True
        self.job.cancel()
        session = self.session
        if session is not None and (session.client is None or not self.op.changes):
            session.abort()  # nothing is being changed: give up the connection now, not after its timeout

    def _tell_cancel(self, text: str) -> None:
        self.window.statusBar().showMessage(text)
        if self.op is not None and self.op.changes:
            self.window.panel.cancel_refused(text)

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.CancelNote):
            self.cancel_note = event.text
            if self.cancel_asked and event.text == events.NOT_CANCELLED:  # pressed just before the change began
                self._tell_cancel(event.text)

    # --- starting a run -------------------------------------------------------------------------
    def run(self, name: Op, *, confirmed: bool = False, again: bool = False) -> None:
        """Start an operation; `confirmed` when it is the retry of one the engineer already confirmed,
        `again` when it goes on after a dialog (the panel keeps its log)."""
        op = OPERATIONS[name]
        if self.job is not None:
            self.window.statusBar().showMessage("Another server task is still running", 5000)
            return
        if (project := self.window.valid_project()) is None:
            return
        host = project.ssh.host
        logs.log.info("%s", op.title.format(host=host))
        if op.confirm and not confirmed and not self._confirm(op.confirm.format(host=host)):
            return
        if name is Op.APPLY and not self.window.secrets.password_confirmed():
            return
        offline = None
        if name is Op.APPLY and (where := self.window.panel.bundle.text().strip()):
            try:
                offline = bundle.load(Path(where))  # checked before anything connects
            except bundle.BundleError as exc:
                QMessageBox.warning(self.window, "The package bundle cannot be used", str(exc))
                return
        secrets = self.window.secrets
        passwords = secrets.passwords(project, ask=False)  # what is missing is asked once the server answers
        fingerprint = self.accepted.get((host, project.ssh.port))
        session = SshSession(project.ssh, self.known_hosts, secrets.login(project), accept_fingerprint=fingerprint)
        job = Job(_work(op.op, project, session, passwords, offline), self)
        self.job, self.op, self.session = job, op, session
        self.cancel_asked, self.cancel_note = False, ""
        title = op.title.format(host=host)
        job.reported.connect(self._on_event)
        if op.changes:
            self.window.panel.start(title, keep_log=again)
            self.window.show_tab(self.window.panel)
            job.reported.connect(self.window.panel.on_event)
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

    # --- outcomes -------------------------------------------------------------------------------
    def _done(self) -> None:
        self.job = self.session = self.op = None
        if self.progress is not None:
            self.progress.canceled.disconnect(self.cancel)
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.busyChanged.emit(False)

    def _succeeded(self, op: Operation, project: Project, result: Any) -> None:
        cancelled = self.cancel_asked and not op.changes
        self._done()
        if cancelled:  # it finished as Cancel was pressed: the engineer no longer wanted the answer
            self._cancelled(op, "Cancelled; nothing on the server was changed.")
            return
        shown: dict[Op, Callable[[Operation, Project, Any], str]] = {
            Op.PLAN: self._show_plan,
            Op.TEST: self._show_status,
            Op.STATUS: self._show_status,
            Op.CHECK: self._show_check,
        }
        message = shown.get(op.op, self._show_outcome)(op, project, result)
        self.window.statusBar().showMessage(message)
        self.finished.emit(op.op, True)

    def _show_plan(self, _op: Operation, project: Project, plan: setup.Plan) -> str:
        w, host = self.window, project.ssh.host
        w.preview.show_plan(host, plan)
        w.show_tab(w.preview)
        return f"Compared with {host}: {'changes pending' if plan.changed else 'up to date'}"

    def _show_status(self, op: Operation, project: Project, status: setup.ServerStatus) -> str:
        w, s = self.window, status.state
        connections = status.connections(project)  # 20,000 log lines: read once, shown twice
        w.status_view.show_status(project.ssh.host, status, project, connections)
        w.model.set_snapshot(status.snapshot(connections[0]))
        if op.op is Op.STATUS:
            w.show_tab(w.status_view)
        return (
            f"Connected to {project.ssh.user}@{project.ssh.host}: {s.os_name}, "
            f"Squid {s.squid_version or 'not installed'}{' (running)' if s.running else ''}"
        )

    def _show_check(self, _op: Operation, project: Project, result: outbound.CheckResult) -> str:
        w = self.window
        w.status_view.way_out.show_check(result)
        w.show_tab(w.status_view)
        failed = len(result.failed)
        return f"The way out from {project.ssh.host}: " + (
            "every endpoint passes" if not failed else f"{failed} of {len(result.endpoints)} endpoints failed"
        )

    def _show_outcome(self, op: Operation, project: Project, outcome: setup.Outcome) -> str:
        w = self.window
        w.preview.forget_plan()
        w.model.server_changed(outcome)
        message = _outcome_text(op.op, project.ssh.host, outcome)
        w.panel.finish(True, message)
        return message

    def _failed(self, op: Operation, project: Project, exc: Exception) -> None:
        cancelled = self.cancel_asked and (isinstance(exc, Cancelled) or not op.changes)
        self._done()
        if cancelled:
            self._cancelled(op, _sentence(str(exc)) if isinstance(exc, Cancelled) else "Cancelled; nothing changed.")
        elif isinstance(exc, HostKeyUnknown):
            if HostKeyDialog(exc, self.window).exec() == QDialog.DialogCode.Accepted:
                self.accepted[(project.ssh.host, project.ssh.port)] = exc.fingerprint
                self.run(op.op, confirmed=True, again=True)
            else:
                self._report(
                    op, exc, "You did not trust its host key, so nothing was sent to it.", "The server was not trusted"
                )
        elif isinstance(exc, HostKeyChanged):
            self._report(op, exc, str(exc).split(". ", 1)[0] + ". Nothing was sent to the server.")
            host_key_changed(self.window, exc)
        elif isinstance(exc, (SecretNeeded, PasswordRefused, SudoPasswordRefused)):
            self._ask_and_retry(op, project, exc)
        elif isinstance(exc, RemoteError):
            self.window.secrets.recover(exc, project)  # a refused key's passphrase is not offered again
            self._report(op, exc, str(exc))
        else:
            detail = "".join(traceback.format_exception(exc))
            self._report(op, exc, f"An unexpected error stopped the run ({type(exc).__name__}).", detail=detail)

    def _ask_and_retry(self, op: Operation, project: Project, exc: RemoteError) -> None:
        """Ask for what the server needs or refused, with what the rest of this run will need and nobody
        knows yet (an apply's proxy passwords), then go on with the same run; the step waits meanwhile
        instead of showing a failure."""
        if op.changes:
            self.window.panel.wait("waiting for a password")
        also = credentials.proxy_kinds(project) if op.op is Op.APPLY else []
        try:
            again = self.window.secrets.recover(exc, project, also)
        except credentials.Declined:
            if isinstance(exc, SecretNeeded):
                self._cancelled(op, "Cancelled: the password was not given; nothing on the server was changed.")
            else:
                self._report(op, exc, str(exc))
            return
        if again:
            self.run(op.op, confirmed=True, again=True)
        else:
            self._report(op, exc, str(exc))

    def _cancelled(self, op: Operation, message: str) -> None:
        """A cancel the engineer asked for: said plainly, not as an error."""
        self.window.statusBar().showMessage(message)
        if op.changes:
            self.window.panel.finish_cancelled(message)
        self.finished.emit(op.op, False)

    def _report(self, op: Operation, exc: BaseException, message: str, title: str = "", detail: str = "") -> None:
        """The same failure gets the same headline and words from every operation (and the CLI)."""
        w = self.window
        title = title or (exc.title if isinstance(exc, RemoteError) else "An unexpected error")
        logs.log.warning("%s: %s", title, message, exc_info=None if isinstance(exc, RemoteError) else exc)
        headed = message if message.startswith(title) else f"{title}: {message}"
        w.statusBar().showMessage(headed.splitlines()[0])
        if op.changes:
            w.panel.finish(False, headed, detail or f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        else:
            # The headline in the box itself as well: many desktops show no title on message boxes.
            box = QMessageBox(QMessageBox.Icon.Warning, title, f"<b>{html.escape(title)}</b>", parent=w)
            box.setInformativeText(html.escape(message))
            box.exec()
        self.finished.emit(op.op, False)


def _sentence(text: str) -> str:
    """core's Cancelled says a clause ("cancelled; nothing …"): as a sentence, for the outcome line."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", ")", ":")) or "\n" in text else f"{text}."


def _work(
    op: Op, project: Project, session: SshSession, passwords: Mapping[Kind, str], offline: bundle.Bundle | None
) -> Work:
    """What `op` runs in the worker thread; the connection is closed whatever happens."""
    calls: dict[Op, Work] = {
        Op.TEST: lambda _emit, _cancelled: setup.status(session),
        Op.STATUS: lambda _emit, _cancelled: setup.status(session),
        Op.CHECK: lambda _emit, _cancelled: outbound.check(session, project, passwords=passwords),
        Op.PLAN: lambda _emit, _cancelled: setup.check(project, session, passwords)[0],
        Op.APPLY: lambda emit, cancelled: setup.apply(
            project, session, passwords, emit=emit, cancel=cancelled, bundle=offline
        ),
        Op.ROLLBACK: lambda emit, _cancelled: setup.rollback(session, emit=emit),
        Op.REMOVE: lambda emit, _cancelled: setup.remove(session, emit=emit),
    }

    def work(emit: events.Emit, cancelled: Callable[[], bool]) -> Any:
        try:
            return calls[op](emit, cancelled)
        finally:
            session.close()

    return work


def _outcome_text(op: Op, host: str, outcome: setup.Outcome) -> str:
    took = f"({outcome.seconds:.1f} s, {outcome.round_trips} SSH commands)"
    if op is Op.APPLY:
        if outcome.changed:
            return f"Applied. Squid on {host} serves the new rules on port {outcome.plan.port}. {took}"
        return f"Nothing to change: {host} already runs this configuration. {took}"
    if not outcome.changed:
        return "Nothing to roll back." if op is Op.ROLLBACK else "No sensorproxy rules were on the server."
    if op is Op.ROLLBACK:
        return f"Rolled back: {host} serves the previous configuration. {took}"
    return f"Removed sensorproxy's rules from {host}. {took}"
