"""The way out to Azure, as `sensorproxy check` found it from the proxy server: one row per endpoint with
its verdict, and the server's clock. Shown on the Server status page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from core.model import plural
from gui import theme

if TYPE_CHECKING:
    from core.remote.outbound import CheckResult

COLUMNS = ("Endpoint", "Result", "Addresses", "DNS / TCP / TLS", "What was found")


class WayOutView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.clock = QLabel()
        self.clock.setWordWrap(True)
        self.endpoints = QTreeWidget()
        self.endpoints.setColumnCount(len(COLUMNS))
        self.endpoints.setHeaderLabels(COLUMNS)
        self.endpoints.setRootIsDecorated(False)
        self.endpoints.setWordWrap(True)
        self.endpoints.setAccessibleName("The way out to Azure")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.endpoints, 1)
        layout.addWidget(self.clock)
        self.hide()  # until a check ran

    def show_check(self, result: CheckResult) -> None:
        failed = [e for e in result.endpoints if not e.ok]
        via = f" through the parent proxy {result.parent}" if result.parent else ""
        verdict = "every endpoint passes" if not failed else f"{plural(len(failed), 'endpoint')} failed"
        self.summary.setText(
            f"<b>The way out to Azure</b> from {html.escape(result.server)}{html.escape(via)}: {verdict} "
            f"(checked {plural(len(result.endpoints), 'endpoint')} in {result.seconds:.1f} s)"
        )
        self.endpoints.clear()
        for e in result.endpoints:
            timing = f"{e.dns_ms} ms" if e.dns_ms >= 0 else "-"
            timing += f" / {e.tcp_ms} ms" if e.tcp else ""
            timing += f" / {e.tls_ms} ms" if e.tls_ms else ""
            row = QTreeWidgetItem(
                [e.host, "passes" if e.ok else "FAILS", " ".join(e.addresses) or "-", timing, e.verdict]
            )
            row.setToolTip(4, e.verdict)
            if not e.ok:
                for column in range(len(COLUMNS)):
                    row.setForeground(column, theme.color("error"))
            self.endpoints.addTopLevelItem(row)
        for column in range(len(COLUMNS) - 1):
            self.endpoints.resizeColumnToContents(column)
        offset = result.clock_offset
        said = result.clock_warning or (
            f"The server's clock is {abs(offset):.1f} s {'behind' if offset > 0 else 'ahead of'} this computer's."
        )
        self.clock.setText(said[:1].upper() + said[1:])
        self.clock.setStyleSheet(f"color: {theme.color('error').name()}" if result.clock_warning else "")
        self.show()
