"""Look and feel: the Fusion style in the system's light or dark scheme, SVG icons, and the few colours
the window uses for errors and diffs, picked to stay readable in both schemes."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

# resources/ beside gui/ in a checkout and in the frozen app; share/sensorproxy in a wheel install.
ICONS = next(
    (p for p in (Path(__file__).resolve().parent.parent / "resources" / "icons",
                 Path(sys.prefix) / "share" / "sensorproxy" / "icons") if p.is_dir()),
    Path(__file__).resolve().parent.parent / "resources" / "icons",
)  # fmt: skip
# SENSORPROXY_THEME=dark|light overrides the system scheme (screenshots, or a desktop that reports none).
THEME_ENV = "SENSORPROXY_THEME"


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons; SVG, so it stays sharp at any scale factor."""
    path = ICONS / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(path)
    return QIcon(str(path))


class _Style(QProxyStyle):
    """Fusion, with a check box's and radio button's box outlined in the text's muted colour: Fusion
    draws it a shade darker than the window, which on a dark window leaves an unticked box invisible."""

    def drawPrimitive(
        self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter, widget: QWidget | None = None
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element == QStyle.PrimitiveElement.PE_IndicatorCheckBox and is_dark():
            painter.save()
            painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(option.rect.adjusted(0, 0, -1, -1))
            painter.restore()


def apply(app: QApplication) -> None:
    """Fusion in the current scheme, and follow the system when it switches between light and dark."""
    app.setStyle(_Style("Fusion"))
    app.setWindowIcon(icon("app"))
    _use_scheme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: _use_scheme(app))


def _use_scheme(app: QApplication) -> None:
    wanted = os.environ.get(THEME_ENV, "").lower()
    if wanted not in {"dark", "light"}:
        wanted = "dark" if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else "light"
    app.setPalette(_dark_palette() if wanted == "dark" else app.style().standardPalette())


def _dark_palette() -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#2b2d30",
        role.WindowText: "#e6e6e6",
        role.Base: "#1e1f22",
        role.AlternateBase: "#26282b",
        role.ToolTipBase: "#3c3f41",
        role.ToolTipText: "#e6e6e6",
        role.PlaceholderText: "#8a8f98",
        role.Text: "#e6e6e6",
        role.Button: "#393b40",
        role.ButtonText: "#e6e6e6",
        role.BrightText: "#ff6b6b",
        role.Highlight: "#2f65ca",
        role.HighlightedText: "#ffffff",
        role.Link: "#6ea8fe",
        role.Mid: "#4a4d52",
        role.Dark: "#1a1b1e",
        role.Light: "#50535a",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.Text, role.ButtonText, role.WindowText):
        p.setColor(group.Disabled, r, QColor("#7a7e85"))
    p.setColor(group.Disabled, role.Base, QColor("#2b2d30"))  # a disabled field looks like the window, not a field
    return p


def is_dark() -> bool:
    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


def color(name: str) -> QColor:
    """Named colours for text and backgrounds, in the variant that reads well on the current scheme."""
    light, dark = _COLORS[name]
    return QColor(dark if is_dark() else light)


_COLORS = {
    "error": ("#b71c1c", "#ff8a80"),
    "ok": ("#1b5e20", "#81c784"),
    "muted": ("#5f6b7a", "#9aa3ad"),
    "accent": ("#174f9c", "#8ab4f8"),
    "added": ("#e6f4ea", "#1f3a26"),
    "removed": ("#fce8e6", "#4a2326"),
}
