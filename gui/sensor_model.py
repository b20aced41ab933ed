"""The sensor table: a Qt model over core's Sensor values, with every edit on an undo stack.

Cells accept what the user types, valid or not, so nothing typed is lost; invalid cells are marked and
carry core's reason as their tooltip. Validation is core's `validate_sensors`, run once per change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QUndoCommand, QUndoStack

from core.accesslog import Snapshot
from core.model import Sensor, Software, plural, validate_sensors
from gui import theme

if TYPE_CHECKING:
    from core.remote.setup import Outcome

ENABLED, NAME, ADDRESS, NOTES, V22, STATE = range(6)
HEADERS = ("On", "Name", "Address", "Notes", "22.x+", "State")
CHECKED = (ENABLED, V22)  # the columns a check box edits
FIELDS = {NAME: "name", ADDRESS: "address", NOTES: "notes"}
Index = QModelIndex | QPersistentModelIndex
Role = Qt.ItemDataRole
DISPLAY, EDIT, CHECK = Role.DisplayRole.value, Role.EditRole.value, Role.CheckStateRole.value
TOOLTIP, FOREGROUND = Role.ToolTipRole.value, Role.ForegroundRole.value
ACCESSIBLE_DESCRIPTION = Role.AccessibleDescriptionRole.value


class SensorTableModel(QAbstractTableModel):
    problemsChanged = Signal()

    def __init__(self, sensors: tuple[Sensor, ...], undo: QUndoStack, allow_wide: bool = False) -> None:
        super().__init__()
        self._sensors = list(sensors)
        self._undo = undo
        self._allow_wide = allow_wide
        self._problems: dict[tuple[int, str], str] = {}  # (row, field) -> reasons
        self._row_problems: dict[int, str] = {}  # row -> every reason of the row
        self._server: Snapshot | None = None  # what the server last said about its sensors
        self._said: dict[str, tuple[str, str]] = {}  # address -> (state, tooltip), until the next tick
        self._revalidate()

    # --- reading ---------------------------------------------------------------------------------
    def sensors(self) -> tuple[Sensor, ...]:
        return tuple(self._sensors)

    def sensor(self, row: int) -> Sensor:
        return self._sensors[row]

    def state(self, row: int) -> str:
        """Validation first; then what the server last said about the sensor, if it was read."""
        if row in self._row_problems:
            return "invalid"
        sensor = self._sensors[row]
        if not sensor.enabled:
            return "off"
        if self._server is None:  # the common case, and the cheap one: called per row by filter and sort
            return "ready"
        return self._server_state(sensor.address)[0]

    def _server_state(self, address: str) -> tuple[str, str]:
        """Worked out once per address and tick: sorts, filters and column fits ask for every row."""
        assert self._server is not None
        if address not in self._said:
            self._said[address] = self._server.state(address)
        return self._said[address]

    def set_snapshot(self, snapshot: Snapshot) -> None:
        """What the server said in a status read: each sensor's state and its time, in the State column."""
        self._server = snapshot
        self._state_changed()

    def tick(self) -> None:
        """Called now and then by the window: "3 min ago" is 4 min ago now."""
        if self._server is not None:
            self._state_changed()

    def server_changed(self, outcome: Outcome) -> None:
        """An apply, rollback or remove ended: what the server lets through now, and every line read
        before a change is history."""
        allowed = outcome.rules.allowed_addresses() if outcome.rules else frozenset()
        if outcome.changed and outcome.since is not None:
            base = self._server or Snapshot(allowed, {}, None)
            self.set_snapshot(base.after_change(allowed, outcome.since))
        elif self._server is not None:
            self.set_snapshot(replace(self._server, allowed=allowed))

    def _state_changed(self) -> None:
        self._said.clear()
        if self._sensors:
            self.dataChanged.emit(self.index(0, STATE), self.index(len(self._sensors) - 1, STATE))

    def set_allow_wide(self, allow: bool) -> None:
        """Wide subnets become valid or invalid with the project's setting."""
        if allow != self._allow_wide:
            self._allow_wide = allow
            self._revalidate()
            if self._sensors:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._sensors) - 1, STATE))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._sensors)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() in CHECKED:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        if index.column() in FIELDS:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        # Called for every cell the view paints and every comparison a sort or filter makes: plain int
        # roles and precomputed problems keep it cheap with 10,000 rows.
        row, col = index.row(), index.column()
        if role in (DISPLAY, EDIT):
            if col == NAME:
                return self._sensors[row].name
            if col == ADDRESS:
                return self._sensors[row].address
            if col == NOTES:
                return self._sensors[row].notes
            if col == STATE:
                return self.state(row)
            return None
        if role == CHECK:
            if col == ENABLED:
                return Qt.CheckState.Checked if self._sensors[row].enabled else Qt.CheckState.Unchecked
            if col == V22:
                return Qt.CheckState.Checked if self._sensors[row].software is Software.V22 else Qt.CheckState.Unchecked
            return None
        if role == TOOLTIP and col == V22:
            return "The sensor runs 22.x or later: its proxy settings are elsewhere (see the commissioning sheet)"
        if role in (TOOLTIP, FOREGROUND, ACCESSIBLE_DESCRIPTION):
            if col == STATE:
                reasons = self._row_problems.get(row, "")
                if not reasons and role != FOREGROUND and self._server is not None and self._sensors[row].enabled:
                    return self._server_state(self._sensors[row].address)[1]
            else:
                reasons = self._problems.get((row, FIELDS.get(col, "")), "")
            if not reasons:
                return None
            return QBrush(theme.color("error")) if role == FOREGROUND else reasons
        return None

    # --- editing (through the undo stack) --------------------------------------------------------
    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        row, col = index.row(), index.column()
        old = self._sensors[row]
        checked = role == Qt.ItemDataRole.CheckStateRole and Qt.CheckState(value) == Qt.CheckState.Checked
        if col == ENABLED and role == Qt.ItemDataRole.CheckStateRole:
            new = replace(old, enabled=checked)
        elif col == V22 and role == Qt.ItemDataRole.CheckStateRole:
            new = replace(old, software=Software.V22 if checked else Software.LEGACY)
        elif col in FIELDS and role == Qt.ItemDataRole.EditRole and isinstance(value, str):
            new = replace(old, **{FIELDS[col]: value})  # type: ignore[arg-type]  # a str field, by FIELDS
        else:
            return False
        if new != old:
            self._undo.push(_EditSensor(self, row, old, new, f"Edit {HEADERS[col].lower()} of {old.name or 'sensor'}"))
        return True

    def reset(self, sensors: tuple[Sensor, ...], allow_wide: bool) -> None:
        """Another project: new rows, and the caller clears the undo stack."""
        self.beginResetModel()
        self._sensors = list(sensors)
        self._allow_wide = allow_wide
        self.endResetModel()
        self._revalidate()

    def add(self, sensors: list[Sensor], text: str = "Add sensor") -> None:
        self._undo.push(_InsertRows(self, len(self._sensors), sensors, text))

    def remove(self, rows: list[int]) -> None:
        if rows:
            self._undo.push(_RemoveRows(self, sorted(set(rows)), f"Delete {plural(len(set(rows)), 'sensor')}"))

    # --- used by the undo commands ---------------------------------------------------------------
    def _set(self, row: int, sensor: Sensor) -> None:
        self._sensors[row] = sensor
        self._revalidate()
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._sensors) - 1, STATE))

    def _insert(self, row: int, sensors: list[Sensor]) -> None:
        self.beginInsertRows(QModelIndex(), row, row + len(sensors) - 1)
        self._sensors[row:row] = sensors
        self.endInsertRows()
        self._revalidate()

    def _take(self, rows: list[int]) -> list[Sensor]:
        taken = []
        for row in reversed(rows):
            self.beginRemoveRows(QModelIndex(), row, row)
            taken.append(self._sensors.pop(row))
            self.endRemoveRows()
        self._revalidate()
        return list(reversed(taken))

    def _revalidate(self) -> None:
        problems = validate_sensors(tuple(self._sensors), allow_wide=self._allow_wide)
        cells: dict[tuple[int, str], list[str]] = {}
        rows: dict[int, list[str]] = {}
        for p in problems:
            assert p.row is not None
            cells.setdefault((p.row - 1, p.field), []).append(p.message)
            rows.setdefault(p.row - 1, []).append(p.message)
        self._problems = {key: "\n".join(messages) for key, messages in cells.items()}
        self._row_problems = {row: "\n".join(messages) for row, messages in rows.items()}
        self.problemsChanged.emit()


class _EditSensor(QUndoCommand):
    def __init__(self, model: SensorTableModel, row: int, old: Sensor, new: Sensor, text: str) -> None:
        super().__init__(text)
        self.model, self.row, self.old, self.new = model, row, old, new

    def redo(self) -> None:
        self.model._set(self.row, self.new)

    def undo(self) -> None:
        self.model._set(self.row, self.old)


class _InsertRows(QUndoCommand):
    def __init__(self, model: SensorTableModel, row: int, sensors: list[Sensor], text: str) -> None:
        super().__init__(text)
        self.model, self.row, self.sensors = model, row, sensors

    def redo(self) -> None:
        self.model._insert(self.row, self.sensors)

    def undo(self) -> None:
        self.model._take(list(range(self.row, self.row + len(self.sensors))))


class _RemoveRows(QUndoCommand):
    def __init__(self, model: SensorTableModel, rows: list[int], text: str) -> None:
        super().__init__(text)
        self.model, self.rows = model, rows
        self.taken: list[Sensor] = []

    def redo(self) -> None:
        self.taken = self.model._take(self.rows)

    def undo(self) -> None:
        for row, sensor in zip(self.rows, self.taken, strict=True):
            self.model._insert(row, [sensor])
