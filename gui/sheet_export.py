"""The commissioning sheet as PDF (Qt's own writer, no extra dependency) or on a printer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from core import atomicfile

# Ligatures would put "ﬁ" where a user name or password says "fi": text copied from the PDF must be
# exactly what the sensor needs typed.
NO_LIGATURES = ("liga", "clig", "dlig", "hlig")


def _document(html: str) -> QTextDocument:
    doc = QTextDocument()
    font = QFont(doc.defaultFont())
    for feature in NO_LIGATURES:
        font.setFeature(QFont.Tag(feature), 0)
    doc.setDefaultFont(font)
    doc.setHtml(html)
    return doc


def _landscape_a4(device: QPagedPaintDevice) -> None:
    device.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    device.setPageOrientation(QPageLayout.Orientation.Landscape)


def pdf_bytes(html: str) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle("Commissioning sheet")
    writer.setCreator("sensorproxy")
    _landscape_a4(writer)
    _document(html).print_(writer)
    del writer  # the PDF is complete once the writer is gone
    buffer.close()
    return bytes(data.data())


def write_pdf(html: str, path: Path) -> None:
    """Made in memory, then written atomically and private (0600): the sheet may hold the password."""
    atomicfile.write_bytes(path, pdf_bytes(html))


def write_pdf_headless(html: str, path: Path) -> None:
    """For the command line: Qt's text layout needs an application object, but no display."""
    app = QGuiApplication.instance() or QGuiApplication(["sensorproxy", "-platform", "offscreen"])
    write_pdf(html, path)
    del app


def print_sheet(html: str, parent: QWidget) -> bool:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    _landscape_a4(printer)
    if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
        return False
    _document(html).print_(printer)
    return True
