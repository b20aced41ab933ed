"""What the table shows of the sensor model: filtered and sorted, as a list of source rows.

Qt's QSortFilterProxyModel calls back into Python for every comparison, which with 10,000 sensors made
a header click stall the window for 0.2 s. Here one Python `sorted()` with a key per row does the work
(about 10 ms), and the view only maps rows. Addresses sort by number (10.0.0.9 before 10.0.0.10),
names and notes ignoring case; the sort is stable, so equal keys keep the project's order.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from PySide6.QtCore import QAbstractProxyModel, QModelIndex, QPersistentModelIndex, Qt

from gui.sensor_model import ADDRESS, ENABLED, NAME, NOTES, STATE, V22, SensorTableModel

Index = QModelIndex | QPersistentModelIndex


class SensorView(QAbstractProxyModel):
    def __init__(self, model: SensorTableModel) -> None:
        super().__init__()
        self.model = model
        self._needle = ""
        self._column = -1
        self._descending = False
        self._rows: list[int] = []  # view row -> model row
        self._where: dict[int, int] = {}  # model row -> view row
        self.setSourceModel(model)
        self._compute()
        model.modelReset.connect(self._reset)
        model.rowsInserted.connect(self._reset)
        model.rowsRemoved.connect(self._reset)
        model.dataChanged.connect(self._changed)

    # --- what the view asks ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.model.columnCount()

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < len(self._rows) and 0 <= column < self.columnCount()):
            return QModelIndex()
        return self.createIndex(row, column)

    # QObject.parent() and QAbstractItemModel.parent(index) share the name; Qt calls this one for indexes.
    def parent(self, child: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        return QModelIndex()  # a flat table

    def mapToSource(self, proxy: Index) -> QModelIndex:
        if not proxy.isValid() or not 0 <= proxy.row() < len(self._rows):
            return QModelIndex()
        return self.model.index(self._rows[proxy.row()], proxy.column())

    def mapFromSource(self, source: Index) -> QModelIndex:
        row = self._where.get(source.row(), -1) if source.isValid() else -1
        return self.index(row, source.column()) if row >= 0 else QModelIndex()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            return self.model.headerData(section, orientation, role)
        # The sensor's number in the project, not its place in the view: sorted or filtered, row header,
        # status bar, preview, CLI and import reports all call it the same "sensor N".
        if role != Qt.ItemDataRole.DisplayRole or not 0 <= section < len(self._rows):
            return None
        return self._rows[section] + 1

    # --- filter and sort ------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        if needle != self._needle:
            self._needle = needle
            self._reset()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._relayout()

    def _accepts(self, row: int) -> bool:
        s = self.model.sensor(row)
        return self._needle in f"{s.name}\n{s.address}\n{s.notes}\n{self.model.state(row)}".casefold()

    def _compute(self) -> None:
        rows = range(self.model.rowCount())
        chosen = [r for r in rows if self._accepts(r)] if self._needle else list(rows)
        key = _SORT_KEYS.get(self._column)
        if key is not None:
            chosen.sort(key=lambda r: key(self.model, r), reverse=self._descending)
        self._rows = chosen
        self._where = {source: view for view, source in enumerate(chosen)}

    def _reset(self, *_args: object) -> None:
        self.beginResetModel()
        self._compute()
        self.endResetModel()

    def _relayout(self) -> None:
        """New order, same rows: selections and the current cell follow their sensors."""
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        sources = [self.mapToSource(i) for i in before]
        self._compute()
        self.changePersistentIndexList(before, [self.mapFromSource(s) for s in sources])
        self.layoutChanged.emit()

    def _changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: list[int] | None = None) -> None:
        if self._needle:
            kept = self._rows
            self._compute()
            if kept != self._rows:  # an edit moved a sensor into or out of the filter
                self._rows = kept
                self._reset()
                return
        elif self._column >= 0:
            self._relayout()
        if self._rows:
            last = self.index(len(self._rows) - 1, self.columnCount() - 1)
            self.dataChanged.emit(self.index(0, 0), last, roles or [])


@lru_cache(maxsize=1 << 17)
def _address_key(address: str) -> tuple[int, int, int, str]:
    try:
        net = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return (9, 0, 0, address)  # what is not an address sorts last, as typed
    return (net.version, int(net.network_address), net.prefixlen, "")


_SORT_KEYS: dict[int, Callable[[SensorTableModel, int], Any]] = {
    ENABLED: lambda m, r: m.sensor(r).enabled,
    NAME: lambda m, r: m.sensor(r).name.casefold(),
    ADDRESS: lambda m, r: _address_key(m.sensor(r).address),
    NOTES: lambda m, r: m.sensor(r).notes.casefold(),
    V22: lambda m, r: m.sensor(r).software.value,
    STATE: lambda m, r: m.state(r),
}
