from __future__ import annotations

import pytest

from core import csvio
from core.model import Sensor


def test_comma_with_header_and_notes():
    result = csvio.parse("name,address,notes\nPLC-1,10.0.0.1,Rack 2\nPLC-2,10.0.0.2\n")
    assert result.sensors == (Sensor("PLC-1", "10.0.0.1", True, "Rack 2"), Sensor("PLC-2", "10.0.0.2"))
    assert result.errors == ()


def test_semicolon_without_header_excel_bom_and_crlf():
    text = "\ufeffPLC-1;10.0.0.1;Zähler, Halle 2\r\nPLC-2;10.0.0.2;\r\n"
    result = csvio.parse(text)
    assert result.sensors == (
        Sensor("PLC-1", "10.0.0.1", True, "Zähler, Halle 2"),
        Sensor("PLC-2", "10.0.0.2"),
    )


def test_tab_separated_rows_pasted_from_a_spreadsheet():
    assert csvio.parse("A\t10.0.0.1\nB\t10.0.0.2\tnote\n").sensors[1] == Sensor("B", "10.0.0.2", True, "note")


def test_quoted_fields_and_blank_lines():
    result = csvio.parse('name,address\n\n"Line 1, left",10.0.0.1\n,,\n')
    assert result.sensors == (Sensor("Line 1, left", "10.0.0.1"),)


def test_every_bad_row_is_reported_with_its_line():
    text = (
        "name,address\n"
        "PLC-1,10.0.0.300\n"
        "PLC-2,10.0.0.5 10.0.0.6\n"
        "Good,10.0.0.7\n"
        "PLC-4,plc4.local\n"
        "PLC-5,0.0.0.0/0\n"
        '"PLC-1\nhttp_access allow all",10.0.0.8\n'
        "only-one-column\n"
        "a,10.0.0.9,notes,extra\n"
    )
    result = csvio.parse(text)
    assert result.sensors == (Sensor("Good", "10.0.0.7"),)
    assert [e.line for e in result.errors] == [2, 3, 5, 6, 8, 9, 10]
    assert "not an IPv4" in result.errors[0].message
    assert "whitespace" in result.errors[1].message


def test_read_refuses_a_file_with_errors_unless_asked_to_skip(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("A,10.0.0.1\nB,10.0.0.300\n")
    with pytest.raises(csvio.CsvImportError, match=r"1 bad row; nothing was imported\n  line 2:"):
        csvio.read(path)
    assert csvio.read(path, skip_bad_rows=True).sensors == (Sensor("A", "10.0.0.1"),)


def test_latin1_file_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "s.csv"
    path.write_bytes("A,10.0.0.1\nZähler,10.0.0.2\n".encode("latin-1"))
    with pytest.raises(csvio.CsvImportError, match="line 2: not UTF-8 text; save it from Excel as 'CSV UTF-8'"):
        csvio.read(path)


def test_export_then_import_round_trips(tmp_path):
    sensors = (Sensor("A, left", "10.0.0.1", True, "say: hi; bye"), Sensor("Süd", "fd00::1"))
    path = tmp_path / "out.csv"
    csvio.write(sensors, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfname,address,notes\r\n")
    assert csvio.read(path).sensors == sensors
