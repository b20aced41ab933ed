"""The left half of the window: the sensor table with its filter box, or a hint when there are no sensors."""

from __future__ import annotations

from heapq import nlargest

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from core.model import Sensor, sensor_label
from gui.sensor_model import ADDRESS, ENABLED, NAME, NOTES, STATE, V22, SensorTableModel
from gui.sensor_view import SensorView

CELL_PADDING = 12  # a table cell's text margins, with room to spare


class SensorPane(QWidget):
    message = Signal(str)  # for the status bar: the problem of the cell the cursor is on

    def __init__(self, model: SensorTableModel) -> None:
        super().__init__()
        self.model = model
        self.filter = SensorView(model)
        self.table = QTableView()
        self.table.setModel(self.filter)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the project's order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        # Tab leaves the table for the form, as in any form; arrow keys move between cells.
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        # Qt's fit-to-contents reads up to 1,000 rows through the model at every sort, filter and edit
        # (0.1-0.2 s with 10,000 sensors): it fits the On column from the rows in view (all alike), and
        # _fit_columns fits address and state from the model's strings.
        header.setResizeContentsPrecision(0)
        for column in (ENABLED, V22):  # check boxes: as wide as their heading
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (NAME, NOTES):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self._fit_timer = QTimer(self, singleShot=True, interval=0)  # once per burst of changes
        self._fit_timer.timeout.connect(self._fit_columns)
        model.problemsChanged.connect(self._fit_timer.start)  # after every insert, removal or edit
        model.dataChanged.connect(lambda *_: self._fit_timer.start())  # and new states from the server
        self._ages = QTimer(self, interval=30_000)  # the State column's "3 min ago" stays true
        self._ages.timeout.connect(model.tick)
        self._ages.start()
        self._fit_columns()
        self.table.setAccessibleName("Sensors")
        self.table.selectionModel().currentChanged.connect(self._show_cell_problem)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Filter sensors (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Filter sensors")
        self._filter_timer = QTimer(self, singleShot=True, interval=120)  # typing stays smooth on big tables
        self._filter_timer.timeout.connect(lambda: self.filter.set_filter(self.search.text()))
        self.search.textChanged.connect(self._filter_timer.start)

        self.empty_hint = EmptyHint()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        layout.addWidget(self.empty_hint)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._show_empty_hint)
        self._show_empty_hint()
        QWidget.setTabOrder(self.search, self.table)

    def add_sensor(self) -> None:
        """A new empty row, shown (the filter is cleared) and open for typing its name."""
        self.search.clear()
        self.filter.set_filter("")  # now, not after the typing pause: the new row must be there to edit
        self.model.add([Sensor(name="", address="")])
        row = self.filter.mapFromSource(self.model.index(self.model.rowCount() - 1, NAME))
        self.table.setCurrentIndex(row)
        self.table.edit(row)

    def delete_selected(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        self.model.remove([self.filter.mapToSource(i).row() for i in selected])

    def _fit_columns(self) -> None:
        """Address and state as wide as their widest text in any row, measured for the longest strings."""
        metrics, header = self.table.fontMetrics(), self.table.horizontalHeader()
        rows = range(self.model.rowCount())
        for column, texts in (
            (ADDRESS, [s.address for s in self.model.sensors()]),
            (STATE, {self.model.state(row) for row in rows}),
        ):
            widest = max((metrics.horizontalAdvance(t) for t in nlargest(8, texts, key=len)), default=0)
            header.resizeSection(column, max(widest + CELL_PADDING, header.sectionSizeHint(column)))

    def _show_empty_hint(self) -> None:
        self.empty_hint.setVisible(self.model.rowCount() == 0)

    def _show_cell_problem(self) -> None:
        index = self.table.currentIndex()
        tip = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
        if tip:
            row = self.filter.mapToSource(index).row()
            self.message.emit(f"{sensor_label(row + 1, self.model.sensor(row).name)}: {tip}")


class EmptyHint(QWidget):
    """Shown instead of nothing when a project has no sensors yet: the three ways to add them."""

    def __init__(self) -> None:
        super().__init__()
        text = QLabel(
            "No sensors yet. Add them one by one, paste rows copied from a spreadsheet, or import a CSV file."
        )
        text.setWordWrap(True)
        self.buttons = {
            "add": QPushButton("Add sensor"),
            "paste": QPushButton("Paste rows"),
            "import": QPushButton("Import CSV…"),
        }
        row = QHBoxLayout()
        for button in self.buttons.values():
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(row)

    def connect_actions(self, actions: dict[str, QAction]) -> None:
        """Each button does exactly what its menu entry does, shortcut shown in its tooltip."""
        for name, button in self.buttons.items():
            action = actions[name]
            button.setToolTip(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            button.clicked.connect(lambda _checked=False, a=action: a.trigger())
