"""The window: cold start against a bare PySide6 window; the window's longest event-loop stalls while it
imports, sorts, filters and edits 10,000 sensors, against its idle loop; and the table model alone.

Every figure is the median of several runs with min and max, and a ratio to a baseline measured in the
same run. The table model's operations run on the GUI thread, so each one's duration is the stall it
causes; their baseline is Qt's own QStandardItemModel doing the same work with the same rows.
Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui.py
"""

from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QSortFilterProxyModel, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QStandardItemModel, QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from bench import measure  # noqa: E402
from bench.measure import RUNS  # noqa: E402
from bench.measure import row_ms as row  # noqa: E402
from core import csvio, projectfile  # noqa: E402
from core.model import Sensor  # noqa: E402
from gui.sensor_model import ADDRESS, NAME, SensorTableModel  # noqa: E402
from gui.sensor_view import SensorView  # noqa: E402

N = 10_000
BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow()
w.show()
print("shown" if w.isVisible() and not w.grab().isNull() else "FAILED")
"""
# The floor for our window: the same kinds and numbers of widgets in plain Qt, with no code of ours.
PLAIN_QT_WINDOW = """
import sys
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (QApplication, QCheckBox, QFormLayout, QLineEdit, QMainWindow, QSpinBox, QSplitter,
                               QTableView, QTabWidget, QToolBar, QWidget)
app = QApplication(sys.argv[:1])
app.setStyle("Fusion")
w = QMainWindow()
model = QStandardItemModel(5, 5)
for r in range(5):
    for c in range(5):
        model.setItem(r, c, QStandardItem(f"cell {r} {c}"))
table = QTableView()
table.setModel(model)
table.setSortingEnabled(True)
form = QWidget()
layout = QFormLayout(form)
for i in range(12):
    layout.addRow(f"Field {i}", QLineEdit())
layout.addRow("Port", QSpinBox())
layout.addRow("Authentication", QCheckBox("on"))
tabs = QTabWidget()
tabs.addTab(form, "Proxy")
for name in ("Preview", "Apply", "Server status"):
    tabs.addTab(QWidget(), QIcon("resources/icons/status.svg"), name)
split = QSplitter()
split.addWidget(table)
split.addWidget(tabs)
w.setCentralWidget(split)
toolbar = QToolBar()
toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
w.addToolBar(toolbar)
for menu in ("File", "Edit", "Proxy", "Help"):
    m = w.menuBar().addMenu(menu)
    for i in range(7):
        m.addAction(QAction(f"Action {i}", w))
for name in ("new", "open", "save", "add", "delete", "connect", "preview", "apply", "status"):
    toolbar.addAction(QAction(QIcon(f"resources/icons/{name}.svg"), name.title(), w))
w.statusBar().showMessage("Valid: 4 of 5 sensors enabled")
w.resize(1280, 800)
w.show()
print("shown" if w.isVisible() and not w.grab().isNull() else "FAILED")
"""


def timed(fn: Callable[[], object], runs: int = RUNS, setup: Callable[[], object] | None = None) -> list[float]:
    """Including the events the call queued: the stall the window itself sees."""
    return measure.timed(lambda: (fn(), QApplication.processEvents()), runs, setup)


def cold_start(tmp: Path) -> dict[str, list[float]]:
    """Process start to the window shown and painted: a bare window, the plain-Qt floor, and ours.

    Each runs from bytecode, as an installed app does (pip compiles it; the frozen app ships it). The
    warm-up run writes it to a private cache, also where PYTHONDONTWRITEBYTECODE is set: that would leave
    our modules, and only ours, compiled from source at every start."""
    env = {**os.environ, "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    example = ROOT / "resources" / "example" / "north-plant.toml"
    argvs = {
        "bare": [sys.executable, "-c", BARE_WINDOW],
        "plain": [sys.executable, "-c", PLAIN_QT_WINDOW],
        "ours": [sys.executable, "-m", "gui.app", "--self-test", str(example)],
    }

    def start(argv: list[str]) -> None:
        out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout
        assert "shown" in out, out

    for argv in argvs.values():
        start(argv)  # warm the file cache and write the bytecode for each
    return measure.timed_together({name: lambda argv=argv: start(argv) for name, argv in argvs.items()}, runs=11)


def window_stalls(tmp: Path, csv_path: Path) -> dict[str, list[float]]:
    """The longest the window's event loop goes without handling an event while it imports, sorts,
    filters and edits 10,000 sensors, seen by a timer beating every millisecond: everything each step
    causes counts, the work it defers (repaints, revalidation, the status bar) included."""
    from gui.main_window import MainWindow
    from gui.project_files import empty_project

    big = tmp / "big.toml"
    projectfile.save(replace(empty_project(), sensors=csvio.read(csv_path).sensors), big)
    window = MainWindow(empty_project(), settings=QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 800)
    window.show()
    beats: list[float] = []
    heart = QTimer(interval=1)
    heart.timeout.connect(lambda: beats.append(time.perf_counter()))
    heart.start()

    def worst_gap(step: Callable[[], object]) -> float:
        loop = QEventLoop()
        QTimer.singleShot(50, step)  # the heart beats for a while first, so a stall from the start counts
        QTimer.singleShot(650, loop.quit)  # past every deferral the window makes (at most 150 ms)
        beats.clear()
        loop.exec()
        return max(b - a for a, b in pairwise(beats))

    def edit() -> None:
        index = window.model.index(5, ADDRESS)
        window.model.setData(index, "10.250.0.9" if index.data() != "10.250.0.9" else "10.250.0.10")

    steps: dict[str, Callable[[], object]] = {
        "idle": lambda: None,
        "import": lambda: (
            window.model.reset((), False),
            measure.forget_validation(),
            window.files.import_path(csv_path),
        ),
        "open": lambda: (window.load(empty_project(), None), measure.forget_validation(), window.files.open_path(big)),
        "sort": lambda: window.sensors.table.sortByColumn(NAME, Qt.SortOrder.DescendingOrder),
        "unsort": lambda: window.sensors.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder),
        "filter": lambda: window.sensors.search.setText("Sensor 0999"),
        "clear filter": lambda: window.sensors.search.clear(),
        "edit": edit,
    }
    out: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(RUNS):
        for name, step in steps.items():
            out[name].append(worst_gap(step))
    heart.stop()
    window.hide()  # not close(): that would ask whether to save the imported sensors
    return out


def main() -> None:
    app = QApplication(sys.argv[:1])
    sensors = tuple(Sensor(f"Sensor {i:05}", f"10.{i // 250}.{i % 250}.1", notes=f"rack {i % 40}") for i in range(N))
    print(f"{'figure':<58} {'median':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        start = cold_start(Path(tmp))
        print(row("cold start: bare PySide6 window shown", start["bare"]))
        print(row("cold start: the same widgets in plain Qt, no code of ours", start["plain"], start["bare"]))
        print(row("cold start: sensorproxy-gui on the example shown", start["ours"], start["bare"]))

        csv_path = Path(tmp) / "sensors.csv"
        csvio.write(sensors, csv_path)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        plain = timed(lambda: list(csv.reader(csv_path.open(encoding="utf-8-sig", newline=""))))
        print(row(f"read {N:,} rows with Python's csv module alone", plain))
        parse = timed(lambda: csvio.read(csv_path), setup=measure.forget_validation)
        print(row(f"CSV import of {N:,} new sensors (parse + validate each row)", parse, plain))

        stalls = window_stalls(Path(tmp), csv_path)
        rss_window = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(row("window event loop, idle: longest gap between 1 ms beats", stalls["idle"]))
        for name, label in (
            ("import", f"import {N:,} sensors from CSV"),
            ("open", f"open a project of {N:,} sensors"),
            ("sort", "sort by name"),
            ("unsort", "back to the project's order"),
            ("filter", "filter 'Sensor 0999'"),
            ("clear filter", "clear the filter"),
            ("edit", "edit one address"),
        ):
            print(row(f"window, longest event-loop stall: {label}", stalls[name], stalls["idle"]))

    # The table: our model against QStandardItemModel with the same rows.
    undo = QUndoStack()
    ours_model = SensorTableModel((), undo)
    ours_proxy = SensorView(ours_model)
    std = QStandardItemModel(0, 5)
    std_proxy = QSortFilterProxyModel()
    std_proxy.setSourceModel(std)
    std_proxy.setFilterKeyColumn(-1)

    def std_load() -> None:
        std.setRowCount(0)
        std.setRowCount(N)
        for r, s in enumerate(sensors):
            for c, text in enumerate(("", s.name, s.address, s.notes, "ready")):
                std.setData(std.index(r, c), text)

    base = timed(std_load)
    print(row(f"load {N:,} rows: QStandardItemModel", base))

    def empty() -> None:
        ours_model.reset((), False)
        measure.forget_validation()

    load = timed(lambda: ours_model.add(list(sensors)), setup=empty)
    print(row(f"load {N:,} new rows: sensor model (one undoable insert + validate)", load, base))
    load = timed(lambda: ours_model.add(list(sensors)), setup=lambda: ours_model.reset((), False))
    print(row(f"load {N:,} rows again: sensor model (validation cached per sensor)", load, base))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    for label, column in (("sort by name", NAME), ("sort by address", ADDRESS)):
        base = timed(lambda c=column: (std_proxy.sort(c, Qt.SortOrder.DescendingOrder), std_proxy.sort(-1)))
        print(row(f"{label} (and back): QStandardItemModel", base))
        mine = timed(lambda c=column: (ours_proxy.sort(c, Qt.SortOrder.DescendingOrder), ours_proxy.sort(-1)))
        print(row(f"{label} (and back): sensor model", mine, base))

    base = timed(lambda: (std_proxy.setFilterFixedString("Sensor 0999"), std_proxy.setFilterFixedString("")))
    print(row("filter 'Sensor 0999' (and clear): QStandardItemModel", base))
    mine = timed(lambda: (ours_proxy.set_filter("Sensor 0999"), ours_proxy.set_filter("")))
    print(row("filter 'Sensor 0999' (and clear): sensor model", mine, base))

    flips = iter(["10.250.0.9", "10.250.0.10"] * 10)
    mine = timed(lambda: ours_model.setData(ours_model.index(5, ADDRESS), next(flips)), runs=9)
    print(row(f"edit one address: sensor model (revalidates all {N:,}; no baseline)", mine))
    print(
        f"peak memory: {rss_before / 1024:.0f} MiB at first, {rss_window / 1024:.0f} MiB with the window holding "
        f"{N:,} sensors, {rss_after / 1024:.0f} MiB with both table models too"
    )
    app.quit()


if __name__ == "__main__":
    main()
