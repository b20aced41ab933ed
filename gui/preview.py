"""The preview: the managed files as they will be written, and the diff against the server's files."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from core.model import plural
from gui import theme

if TYPE_CHECKING:
    from core.remote.setup import Plan

_DIRECTIVE = re.compile(r"^\s*([a-z_]+)(?=\s)")  # a word then a space: not the `fdab` of an address


class ConfigHighlighter(QSyntaxHighlighter):
    """Squid config and unified diffs: comments muted, directives bold, added and removed lines tinted."""

    def highlightBlock(self, text: str) -> None:
        fmt = QTextCharFormat()
        if text.startswith("# ==>"):
            fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setForeground(theme.color("accent"))
            self.setFormat(0, len(text), fmt)
            return
        if text.startswith(("+++", "---", "@@")):
            fmt.setForeground(theme.color("accent"))
            self.setFormat(0, len(text), fmt)
            return
        body, offset = text, 0
        if text[:1] in ("+", "-"):
            fmt.setBackground(theme.color("added" if text[0] == "+" else "removed"))
            self.setFormat(0, len(text), fmt)
            body, offset = text[1:], 1
        if m := _DIRECTIVE.match(body):
            directive = QTextCharFormat(fmt)
            directive.setFontWeight(QFont.Weight.Bold)
            self.setFormat(offset + m.start(1), len(m.group(1)), directive)
        if (start := body.find("#")) >= 0:  # a comment line, or the sensor after an address in the list
            comment = QTextCharFormat(fmt)
            comment.setForeground(theme.color("muted"))
            self.setFormat(offset + start, len(body) - start, comment)


class CodeView(QPlainTextEdit):
    """Read-only Squid configuration or diff, highlighted."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setAccessibleName(name)
        self.highlighter = ConfigHighlighter(self.document())


class PreviewPane(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.files = CodeView("Files sensorproxy writes")
        self.diff = CodeView("Changes against the server")
        self.diff_title = QLabel()
        self.diff_title.setWordWrap(True)
        top, bottom = QWidget(), QWidget()
        top_layout, bottom_layout = QVBoxLayout(top), QVBoxLayout(bottom)
        for layout in (top_layout, bottom_layout):
            layout.setContentsMargins(0, 0, 0, 0)
        self.files_title = QLabel()
        self.files_title.setWordWrap(True)
        top_layout.addWidget(self.files_title)
        top_layout.addWidget(self.files)
        bottom_layout.addWidget(self.diff_title)
        bottom_layout.addWidget(self.diff)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.forget_plan()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # light/dark switch: colours come from the theme
            for view in (self.files, self.diff):
                view.highlighter.rehighlight()
        super().changeEvent(event)

    def show_files(self, text: str) -> None:
        _keep_scroll(self.files, text)

    def show_plan(self, host: str, plan: Plan) -> None:
        self.files_title.setText(
            f"<b>Files sensorproxy writes</b> (on Debian's stock layout; compared with {host} at "
            f"{datetime.now():%H:%M}: the changes below are against the server's own files)"
        )
        if plan.files:
            self.diff_title.setText(f"<b>Changes on {host}</b>: {plural(len(plan.files), 'file')} would change")
        else:
            self.diff_title.setText(f"<b>{host} is up to date</b>: applying would change no file")
        steps = "\n".join(f"# {'change' if s.will_change else 'ok':<7} {s.name}: {s.detail}" for s in plan.steps)
        _keep_scroll(self.diff, f"{steps}\n\n{plan.diff()}")

    def forget_plan(self) -> None:
        self.files_title.setText("<b>Files sensorproxy writes</b> (before the server is known: Debian's layout)")
        self.diff_title.setText(
            "<b>Changes on the server</b>: not compared yet — use Proxy ▸ Preview changes (F5) to connect and compare"
        )
        self.diff.setPlainText("")


def _keep_scroll(view: QPlainTextEdit, text: str) -> None:
    """Replace the text but stay where the reader was."""
    if view.toPlainText() == text:
        return
    bar = view.verticalScrollBar()
    position = bar.value()
    doc: QTextDocument = view.document()
    doc.setPlainText(text)
    bar.setValue(position)
