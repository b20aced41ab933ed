from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtTest import QAbstractItemModelTester

from core.model import Sensor
from gui.sensor_model import ADDRESS, ENABLED, NAME, STATE, SensorTableModel

SENSORS = (Sensor("PLC-1", "10.0.0.1"), Sensor("PLC-2", "10.0.0.2", notes="left"))


def make():
    undo = QUndoStack()
    model = SensorTableModel(SENSORS, undo)
    return model, undo


def test_model_passes_qt_model_tester(qapp):
    model, undo = make()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.add([Sensor("PLC-3", "10.0.0.3")])
    model.setData(model.index(0, NAME), "Renamed")
    model.remove([0, 1])
    assert [s.name for s in model.sensors()] == ["PLC-3"]
    undo.undo()
    undo.undo()
    undo.undo()
    assert model.sensors() == SENSORS
    assert tester is not None


def test_edit_marks_invalid_cell_with_core_reason_and_undo_restores(qapp):
    model, undo = make()
    assert model.setData(model.index(1, ADDRESS), "10.0.0.300")
    assert model.sensors()[1].address == "10.0.0.300"  # what was typed is kept
    tip = model.data(model.index(1, ADDRESS), Qt.ItemDataRole.ToolTipRole)
    assert "not an IPv4 or IPv6 address" in tip
    assert model.data(model.index(1, STATE)) == "invalid"
    assert model.data(model.index(1, ADDRESS), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(0, ADDRESS), Qt.ItemDataRole.ToolTipRole) is None
    undo.undo()
    assert model.sensors() == SENSORS
    assert model.data(model.index(1, STATE)) == "ready"
    undo.redo()
    assert model.sensors()[1].address == "10.0.0.300"


def test_duplicate_name_is_marked_on_the_second_row(qapp):
    model, _ = make()
    model.setData(model.index(1, NAME), "plc-1")
    assert "also the name of row 1" in model.data(model.index(1, NAME), Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(0, NAME), Qt.ItemDataRole.ToolTipRole) is None


def test_enable_checkbox_and_delete_are_undoable(qapp):
    model, undo = make()
    model.setData(model.index(0, ENABLED), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert not model.sensors()[0].enabled
    assert model.data(model.index(0, STATE)) == "off"
    model.remove([0, 1])
    assert model.rowCount() == 0
    undo.undo()
    assert [s.name for s in model.sensors()] == ["PLC-1", "PLC-2"]
    undo.undo()
    assert model.sensors() == SENSORS
