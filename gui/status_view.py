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
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core import accesslog
from core.model import Project, plural
from gui import theme
from gui.way_out_view import WayOutView

if TYPE_CHECKING:
    from core.remote.setup import Connections, ServerStatus

COLUMNS = ("Address", "Name", "On the server", "In the table")
SEEN_COLUMNS = ("Address", "Name", "Since the change", "When", "Destination", "Before the change")


class StatusView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel("<b>Not checked yet.</b> Proxy ▸ Server status (F6) connects and reads the server.")
        self.summary.setWordWrap(True)
        self.fields = {name: QLabel() for name in ("Server", "Squid", "Port", "Backups", "Notes")}
        self.form = QFormLayout()
        for name, label in self.fields.items():
            label.setWordWrap(True)
            label.setAccessibleName(name)
            self.form.addRow(name, label)
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
        self.seen = QTreeWidget()
        self.seen.setColumnCount(len(SEEN_COLUMNS))
        self.seen.setHeaderLabels(SEEN_COLUMNS)
        self.seen.setAccessibleName("Connections from the access log")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self.form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.seen_summary)
        layout.addWidget(self.seen, 1)
        self.way_out = WayOutView()
        layout.addWidget(self.way_out, 1)
        self._show_parts(False)

    def _show_parts(self, read: bool) -> None:
        """Before the first read only the summary shows: no headings over nothing."""
        for name in self.fields:
            self.form.setRowVisible(self.fields[name], read and bool(self.fields[name].text()))
        for part in (self.table, self.seen_summary, self.seen):
            part.setVisible(read)

    def show_status(self, host: str, status: ServerStatus, project: Project, connections: Connections) -> None:
        s = status.state
        self.fields["Server"].setText(f"{host} — {s.os_name} ({s.arch})")
        self.fields["Squid"].setText(
            f"{s.squid_version or 'not installed'}; {'running' if s.running else 'stopped'}; "
            f"{'enabled' if s.enabled else 'not enabled'} at boot"
        )
        port = status.port or project.proxy.port
        self.fields["Port"].setText(f"{port}: {'listening' if port in s.listening else 'NOT listening'}")
        offset = status.offset
        changed = f"; the configuration last changed {_at(status.since, offset)}" if status.since else ""
        self.fields["Backups"].setText(f"{len(status.backups)}{changed}")
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
        self._show_connections(status, connections, offset)
        if status.managed is None:
            self.summary.setText(f"<b>{host} has no sensorproxy rules.</b> Apply to set it up.")
        elif differ:
            self.summary.setText(
                f"<b>The server differs from the table in {plural(differ, 'sensor')}.</b> Apply to sync."
            )
        else:
            allowed = len(status.managed.allowed())
            self.summary.setText(f"<b>The server allows exactly the table's {plural(allowed, 'enabled sensor')}.</b>")
        self._show_parts(True)
        self.table.setVisible(bool(rows))

    def _show_connections(self, status: ServerStatus, connections: Connections, offset: float) -> None:
        rows, strangers = connections
        tunnelled = sum(a.tunnel is not None for a in rows)
        if status.since is None:
            now = f"no sensor can connect now: {status.why_none}"
        else:
            now = (
                f"{tunnelled} of {plural(len(rows), 'enabled sensor')} tunnelled through since the configuration "
                f"changed {_at(status.since, offset)}"
            )
        self.seen_summary.setText(
            f"<b>Connections</b> (the last {len(status.log):,} lines of {accesslog.LOG_FILE}, read again while "
            f"this tab is open): {now}"
            + (f"; {plural(len(strangers), 'client')} not in the table" if strangers else "")
        )
        self.seen.clear()
        sensors = self._group(f"Sensors in the table ({len(rows)})", self.seen.invisibleRootItem())
        for act in rows:
            self._activity(sensors, act, act.name, offset)
        current = [a for a in strangers if a.count]
        old = [a for a in strangers if not a.count]
        if strangers:
            others = self._group(
                f"Clients not in the table ({len(strangers)}, {accesslog.span(strangers, offset)})", None
            )
            for act in current:
                self._activity(others, act, "", offset)
            if old:
                history = self._group(
                    f"Seen only before the change ({len(old)}, {accesslog.span(old, offset)})", others
                )
                history.setExpanded(False)
                for act in old:
                    self._activity(history, act, "", offset)
        for col in range(len(SEEN_COLUMNS) - 1):
            self.seen.resizeColumnToContents(col)

    def _group(self, title: str, parent: QTreeWidgetItem | None) -> QTreeWidgetItem:
        item = QTreeWidgetItem([title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        if parent is None:
            self.seen.addTopLevelItem(item)
        else:
            parent.addChild(item)
        item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        return item

    @staticmethod
    def _activity(group: QTreeWidgetItem, act: accesslog.Activity, name: str, offset: float) -> None:
        entry = act.current
        if name or entry is not None:  # a sensor, or a client seen since the change: its latest
            when = _at(entry.time, offset) if entry else "-"
            if not name and act.first is not None and act.last is not None and act.first != act.last:
                when = f"{accesslog.span([act], offset)}, {plural(act.count, 'request')}"
        else:  # only history: its time range
            when = accesslog.span([act], offset)
        before = f"{act.before.result}, {_at(act.before.time, offset)}" if act.before else ""
        cells = (
            act.address,
            name,
            entry.result if entry else accesslog.NEVER,
            when,
            entry.url if entry else (act.before.url if act.before else ""),
            before,
        )
        item = QTreeWidgetItem(list(cells))
        tone = "ok" if act.tunnel is not None else "muted" if entry is None else "error"
        item.setForeground(2, theme.color(tone))
        item.setForeground(5, theme.color("muted"))
        group.addChild(item)


def _at(t: float, offset: float) -> str:
    return accesslog.at(t + offset)
