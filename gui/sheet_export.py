"""The commissioning sheet as PDF (Qt's own writer, no extra dependency) or on a printer."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtGui import QPagedPaintDevice, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget


def _document(html: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setHtml(html)
    return doc


def _landscape_a4(device: QPagedPaintDevice) -> None:
    device.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    device.setPageOrientation(QPageLayout.Orientation.Landscape)


def write_pdf(html: str, path: Path) -> None:
    """Written beside the target and renamed into place, so a failed export leaves no half file."""
    tmp = path.with_name(f".{path.name}.tmp")
    writer = QPdfWriter(str(tmp))
    writer.setTitle("Commissioning sheet")
    writer.setCreator("sensorproxy")
    _landscape_a4(writer)
    _document(html).print_(writer)
    del writer  # the file is complete once the writer is gone
    os.replace(tmp, path)


def print_sheet(html: str, parent: QWidget) -> bool:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    _landscape_a4(printer)
    if QPrintDialog(printer, parent).exec() != QDialog.DialogCode.Accepted:
        return False
    _document(html).print_(printer)
    return True
