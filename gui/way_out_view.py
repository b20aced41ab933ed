"""The way out to Azure, as `sensorproxy check` found it from the proxy server: one row per endpoint with
its verdict, and the server's clock. Shown on the Server status page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.model import plural
from gui import theme

if TYPE_CHECKING:
    from core.remote.outbound import CheckResult


class WayOutView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.clock = QLabel()
        self.clock.setWordWrap(True)
        self.endpoints = QListWidget()  # one entry per endpoint: its result, then what was found, wrapped
        self.endpoints.setWordWrap(True)
        self.endpoints.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.endpoints.setSpacing(3)
        self.endpoints.setAccessibleName("The way out to Azure")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.endpoints, 1)
        layout.addWidget(self.clock)
        self.hide()  # until a check ran

    def show_check(self, result: CheckResult) -> None:
        failed = result.failed
        via = f" through the parent proxy {result.parent}" if result.parent else ""
        verdict = "every endpoint passes" if not failed else f"{plural(len(failed), 'endpoint')} failed"
        self.summary.setText(
            f"<b>The way out to Azure</b> from {html.escape(result.server)}{html.escape(via)}: {verdict} "
            f"(checked {plural(len(result.endpoints), 'endpoint')} in {result.seconds:.1f} s)"
        )
        self.endpoints.clear()
        for e in result.endpoints:
            steps = [f"DNS {e.dns_ms} ms" if e.dns_ms >= 0 else "no answer"]
            steps += [f"TCP {e.tcp_ms} ms"] if e.tcp else []
            steps += [f"TLS {e.tls_ms} ms"] if e.tls_ms else []
            where = " ".join(e.addresses) or "no address"
            entry = QListWidgetItem(
                f"{'passes' if e.ok else 'FAILS'}   {e.host}   ({where}; {', '.join(steps)})\n{e.verdict}"
            )
            if not e.ok:
                entry.setForeground(theme.color("error"))
            self.endpoints.addItem(entry)
        offset = result.clock_offset
        said = result.clock_warning or (
            f"The server's clock is {abs(offset):.1f} s {'behind' if offset > 0 else 'ahead of'} this computer's."
        )
        self.clock.setText(said[:1].upper() + said[1:])
        self.clock.setStyleSheet(f"color: {theme.color('error').name()}" if result.clock_warning else "")
        self.show()
