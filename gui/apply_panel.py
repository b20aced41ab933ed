"""Live progress of a server run: the steps with their state, a progress bar, the log, Cancel, and the
outcome in plain words with the technical detail one click away."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.remote.events import STEPS, Event, LogEvent, Status, StepEvent
from gui import theme
from gui.preview import CodeView

ICONS = {
    None: "pending",
    Status.RUNNING: "running",
    Status.CHANGED: "changed",
    Status.UNCHANGED: "unchanged",
    Status.SKIPPED: "skipped",
    Status.FAILED: "failed",
    Status.ROLLED_BACK: "rolled-back",
}
WORDS = {
    None: "pending",
    Status.RUNNING: "running",
    Status.CHANGED: "done, changed",
    Status.UNCHANGED: "done, unchanged",
    Status.SKIPPED: "skipped",
    Status.FAILED: "failed",
    Status.ROLLED_BACK: "rolled back",
}
FINAL = {Status.CHANGED, Status.UNCHANGED, Status.SKIPPED, Status.FAILED, Status.ROLLED_BACK}


class ApplyPanel(QWidget):
    cancelRequested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("<b>Nothing has run yet.</b> Proxy ▸ Apply (Ctrl+Return) sets up the server.")
        self.title.setWordWrap(True)
        self.bundle = QLineEdit()
        self.bundle.setPlaceholderText("none: the server installs Squid from its own apt repositories")
        self.bundle.setAccessibleName("Offline package bundle")
        self.bundle.setToolTip("A folder (or zip) made by `sensorproxy bundle`, for servers without a repository")
        browse = QToolButton()
        browse.setText("…")
        browse.setAccessibleName("Choose the bundle folder")
        browse.clicked.connect(self._pick_bundle)
        bundle_row = QHBoxLayout()
        bundle_row.addWidget(QLabel("Offline package bundle:"))
        bundle_row.addWidget(self.bundle, 1)
        bundle_row.addWidget(browse)
        self.steps = QTreeWidget()
        self.steps.setColumnCount(3)
        self.steps.setHeaderLabels(["Step", "State", "Detail"])
        self.steps.setRootIsDecorated(False)
        self.steps.setAccessibleName("Steps")
        header = self.steps.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.items: dict[str, QTreeWidgetItem] = {}
        for name, title in STEPS:
            item = QTreeWidgetItem([title, "", ""])
            self.steps.addTopLevelItem(item)
            self.items[name] = item
        self.progress = QProgressBar()
        self.progress.setRange(0, len(STEPS))
        self.progress.setAccessibleName("Progress")
        self.cancel = QPushButton(theme.icon("cancel"), "Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self._cancel)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setAccessibleName("Outcome")
        self.details_button = QToolButton()
        self.details_button.setText("Technical details")
        self.details_button.setCheckable(True)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.toggled.connect(self._toggle_details)
        self.details = CodeView("Technical details")
        self.details.setMaximumHeight(160)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(20_000)
        self.log.setAccessibleName("Log")
        self.log.setFont(self.details.font())

        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(bundle_row)
        top_layout.addWidget(self.title)
        top_layout.addWidget(self.steps)
        top_layout.addLayout(bar)
        top_layout.addWidget(self.outcome)
        top_layout.addWidget(self.details_button)
        top_layout.addWidget(self.details)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.log)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._reset_steps()
        self._set_details("")

    # --- a run ----------------------------------------------------------------------------------
    def start(self, title: str, *, keep_log: bool = False) -> None:
        """A new run; `keep_log` when it goes on after a dialog (a password, a host key)."""
        self.title.setText(f"<b>{title}</b>")
        self._reset_steps()
        if not keep_log:
            self.log.clear()
        self.outcome.clear()
        self._set_details("")
        self.cancel.setEnabled(True)
        self.cancel.setText("Cancel")

    def on_event(self, event: Event) -> None:
        if isinstance(event, LogEvent):
            self.log.appendPlainText(f"[{event.step}] {event.line}")
        elif isinstance(event, StepEvent):
            self._set_step(event)
            if event.status is not Status.RUNNING:  # the log is the whole record: each step's end too
                said = f": {event.message}" if event.message else ""
                self.log.appendPlainText(f"[{event.step}] {WORDS[event.status]}{said}")
            if event.diff:
                self.log.appendPlainText(event.diff.rstrip("\n"))

    def wait(self, why: str) -> None:
        """The run waits for the engineer (a password dialog is open): the step that asked shows as
        running, not failed; with none failed, the next step to run does."""
        states = {name: self.state(name) for name in self.items}
        step = next((n for n, s in states.items() if s is Status.FAILED), None)
        step = step or next((n for n, s in states.items() if s is None), "connect")
        self._set_step(StepEvent(step, Status.RUNNING, why))

    def cancel_refused(self, text: str) -> None:
        """Cancel was pressed where the run does not stop at once: say so now, in the outcome line."""
        self.cancel.setEnabled(False)
        self.cancel.setText("Cancel")
        self._show_outcome(text, "muted")

    def finish(self, ok: bool, message: str, detail: str = "") -> None:
        self._end(Status.UNCHANGED if ok else Status.FAILED, "")
        self._show_outcome(message, "ok" if ok else "error")
        self._set_details(detail)
        if ok:
            self.progress.setValue(self.progress.maximum())

    def finish_cancelled(self, message: str) -> None:
        """The engineer cancelled: a plain outcome, no error and nothing technical to look at."""
        self._end(Status.SKIPPED, "cancelled", also=Status.FAILED)
        self._show_outcome(message, "")
        self._set_details("")

    def state(self, step: str) -> Status | None:
        return self._status(self.items[step])

    # --- internals ------------------------------------------------------------------------------
    def _pick_bundle(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Offline package bundle", self.bundle.text())
        if folder:
            self.bundle.setText(folder)

    def _cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.cancel.setText("Cancelling…")
        self.cancelRequested.emit()

    def _end(self, status: Status, why: str, also: Status | None = None) -> None:
        """The run is over: Cancel rests, and a step still running (or `also` marked) becomes `status`."""
        self.cancel.setEnabled(False)
        self.cancel.setText("Cancel")
        for item in self.items.values():
            if self._status(item) in (Status.RUNNING, also):
                self._paint(item, status)
                if why:
                    item.setText(2, why)

    def _show_outcome(self, text: str, color: str) -> None:
        """`color` names a theme colour; "" is the window's own text colour, for plain news."""
        self.outcome.setText(text)
        self.outcome.setStyleSheet(f"color: {theme.color(color).name()}" if color else "")

    def _reset_steps(self) -> None:
        for item in self.items.values():
            self._paint(item, None)
            item.setText(2, "")
        self.progress.setValue(0)

    def _set_step(self, event: StepEvent) -> None:
        item = self.items[event.step]
        self._paint(item, event.status)
        if event.message:
            item.setText(2, event.message)
            item.setToolTip(2, event.message)
        done = sum(1 for i in self.items.values() if self._status(i) in FINAL)
        self.progress.setValue(done)
        self.steps.scrollToItem(item)

    def _paint(self, item: QTreeWidgetItem, status: Status | None) -> None:
        item.setIcon(0, theme.icon(ICONS[status]))
        item.setText(1, WORDS[status])
        item.setData(1, Qt.ItemDataRole.UserRole, status.value if status else "")

    @staticmethod
    def _status(item: QTreeWidgetItem) -> Status | None:
        value = item.data(1, Qt.ItemDataRole.UserRole)  # Qt hands enums back as their str value
        return Status(value) if value else None

    def _set_details(self, text: str) -> None:
        self.details.setPlainText(text)
        self.details_button.setVisible(bool(text))
        self.details_button.setChecked(False)
        self.details.setVisible(False)

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
