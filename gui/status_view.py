"""Server status: what the server runs and which sensors its managed rules allow, marked where that
differs from the table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import accesslog
from core.model import Project, plural
from gui import theme

if TYPE_CHECKING:
    from core.remote.setup import ServerStatus

COLUMNS = ("Address", "Name", "On the server", "In the table")
SEEN_COLUMNS = ("Address", "Name", "Result", "Last seen", "Last destination")


class StatusView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel("<b>Not checked yet.</b> Proxy ▸ Server status (F6) connects and reads the server.")
        self.summary.setWordWrap(True)
        self.fields = {name: QLabel("—") for name in ("Server", "Squid", "Port", "Backups", "Notes")}
        form = QFormLayout()
        for name, label in self.fields.items():
            label.setWordWrap(True)
            label.setAccessibleName(name)
            form.addRow(name, label)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSortingEnabled(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setAccessibleName("Sensors the server allows")
        self.seen_summary = QLabel()
        self.seen_summary.setWordWrap(True)
        self.seen = QTableWidget(0, len(SEEN_COLUMNS))
        self.seen.setHorizontalHeaderLabels(SEEN_COLUMNS)
        self.seen.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.seen.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.seen.verticalHeader().hide()
        self.seen.horizontalHeader().setStretchLastSection(True)
        self.seen.setAccessibleName("Connections from the access log")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.seen_summary)
        layout.addWidget(self.seen, 1)

    def show_status(self, host: str, status: ServerStatus, project: Project) -> None:
        s = status.state
        self.fields["Server"].setText(f"{host} — {s.os_name} ({s.arch})")
        self.fields["Squid"].setText(
            f"{s.squid_version or 'not installed'}; {'running' if s.running else 'stopped'}; "
            f"{'enabled' if s.enabled else 'not enabled'} at boot"
        )
        port = status.port or project.proxy.port
        self.fields["Port"].setText(f"{port}: {'listening' if port in s.listening else 'NOT listening'}")
        self.fields["Backups"].setText(f"{len(status.backups)}; last change {status.last_apply or 'never'}")
        self.fields["Notes"].setText("\n".join(status.managed.notes) if status.managed else "")
        rows = status.compare(project)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        differ = 0
        for i, row in enumerate(rows):
            cells = (row.address, row.name, "yes" if row.on_server else "NO", "yes" if row.in_project else "NO")
            mismatch = not (row.on_server and row.in_project)
            differ += mismatch
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if mismatch:
                    item.setForeground(theme.color("error"))
                    item.setToolTip(
                        "The server allows this sensor, but the table does not list it (enabled)"
                        if row.on_server
                        else "The table lists this sensor, but the server does not allow it yet: apply"
                    )
                self.table.setItem(i, col, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self._show_connections(status, project)
        if status.managed is None:
            self.summary.setText(f"<b>{host} has no sensorproxy rules.</b> Apply to set it up.")
        elif differ:
            self.summary.setText(
                f"<b>The server differs from the table in {plural(differ, 'sensor')}.</b> Apply to sync."
            )
        else:
            allowed = len(status.managed.allowed())
            self.summary.setText(f"<b>The server allows exactly the table's {plural(allowed, 'enabled sensor')}.</b>")

    def _show_connections(self, status: ServerStatus, project: Project) -> None:
        rows, strangers = status.connections(project)
        tunnelled = sum(seen.result == accesslog.ESTABLISHED for seen in rows)
        self.seen_summary.setText(
            f"<b>Connections</b> (the last {len(status.log):,} lines of {accesslog.LOG_FILE}, refreshed while "
            f"this tab is open): {tunnelled} of {plural(len(rows), 'enabled sensor')} tunnelled through"
            + (f"; {plural(len(strangers), 'client')} not in the table" if strangers else "")
        )
        self.seen.setRowCount(len(rows) + len(strangers))
        for i, seen in enumerate((*rows, *strangers)):
            stranger = i >= len(rows)
            name = "not in the table" if stranger else seen.name
            for col, text in enumerate((seen.address, name, seen.result, seen.when, seen.destination)):
                item = QTableWidgetItem(text)
                if stranger or seen.result not in (accesslog.ESTABLISHED,):
                    item.setForeground(theme.color("error" if seen.result != accesslog.NEVER else "muted"))
                self.seen.setItem(i, col, item)
        self.seen.resizeColumnsToContents()
