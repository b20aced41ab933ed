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
    assert "also the name of sensor 1 (" in model.data(model.index(1, NAME), Qt.ItemDataRole.ToolTipRole)
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


def test_view_passes_qt_model_tester_through_sort_filter_and_edits(qapp):
    from gui.sensor_view import SensorView

    model, undo = make()
    view = SensorView(model)
    tester = QAbstractItemModelTester(view, QAbstractItemModelTester.FailureReportingMode.Fatal)
    view.sort(NAME, Qt.SortOrder.DescendingOrder)
    assert [view.index(r, NAME).data() for r in range(view.rowCount())] == ["PLC-2", "PLC-1"]
    model.add([Sensor("PLC-0", "10.0.0.9"), Sensor("Cell", "10.0.0.10")])
    view.sort(ADDRESS, Qt.SortOrder.AscendingOrder)
    assert [view.index(r, ADDRESS).data() for r in range(view.rowCount())] == [
        "10.0.0.1", "10.0.0.2", "10.0.0.9", "10.0.0.10",
    ]  # fmt: skip
    view.set_filter("plc")
    assert view.rowCount() == 3
    model.setData(model.index(3, NAME), "PLC-9")  # "Cell" now matches the filter
    assert view.rowCount() == 4
    source = view.mapToSource(view.index(0, NAME))
    assert view.mapFromSource(source).row() == 0
    model.remove([0])
    assert view.rowCount() == 3
    undo.undo()
    undo.undo()
    assert view.rowCount() == 3
    assert tester is not None
