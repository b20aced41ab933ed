"""The commissioning sheet from the window: a real PDF (read back with pdftotext) and CSV."""

from __future__ import annotations

import re
import subprocess

from PySide6.QtWidgets import QMessageBox

from core import credentials
from core.secret_kind import Kind
from tests.conftest import ROOT, require_tool
from tests.qt_helpers import answer_dialogs, answer_next, choose_file, open_window, press, trigger

NO, YES = press(QMessageBox.StandardButton.No), press(QMessageBox.StandardButton.Yes)
SHEET = "Export commissioning sheet…"

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def pdf_text(path) -> str:
    return subprocess.run(
        [require_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf_sheet_lists_each_enabled_sensor_and_hides_the_password_unless_asked(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    credentials.store(Kind.PROXY, w.project(), "Sheet-Secret-5")
    pdf = tmp_path / "sheet.pdf"
    seen = answer_next(choose_file(pdf), NO)
    trigger(w, SHEET)
    assert seen.titles == ["Export commissioning sheet", "Proxy password on the sheet?"]
    text = pdf_text(pdf)
    assert "Commissioning sheet — North Plant" in text
    assert "Sensor Network Settings" in text
    for name in ("Boiler house", "Packaging line 1", "Packaging line 2", "Substation"):
        assert name in text
    assert "Water treatment" not in text  # disabled
    assert "192.168.40.1" in text
    assert "3128" in text
    assert "Sheet-Secret-5" not in text
    assert not list(tmp_path.glob(".*.tmp"))

    with_password = tmp_path / "sheet-with-password.pdf"
    answer_next(choose_file(with_password), YES)
    trigger(w, SHEET)
    assert "Sheet-Secret-5" in pdf_text(with_password)


def test_csv_sheet_from_the_window(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    out = tmp_path / "sheet.csv"
    answer_next(choose_file(out), NO)
    trigger(w, SHEET)
    assert (
        out.read_text(encoding="utf-8-sig")
        .splitlines()[1]
        .startswith("Boiler house,192.168.40.11,System settings > Basic > Sensor Network Settings,on,192.168.40.1")
    )


def test_an_invalid_project_gives_no_sheet(qtbot, tmp_path):
    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.form.host.setText("bad host!")
    seen = answer_dialogs(("OK", None))
    trigger(w, SHEET)
    assert seen.titles == ["Fix the project first"]
    assert "Server: 'bad host!' is not an IP address" in seen.texts[0]
    assert not (tmp_path / "x.pdf").exists()


def test_offline_kit_from_the_window_hashes_the_typed_password(qtbot, tmp_path):
    import io
    import zipfile

    w = open_window(qtbot, EXAMPLE, tmp_path)
    w.form.password.edit.setText("Kit-typed-3")
    w.form.password.again.setText("Kit-typed-3")  # a new proxy password is typed twice
    out = tmp_path / "kit.zip"
    answer_next(choose_file(out))
    trigger(w, "Export offline kit…")
    with zipfile.ZipFile(io.BytesIO(out.read_bytes())) as z:
        texts = {name: z.read(name).decode() for name in z.namelist()}
    assert texts["sensorproxy-kit/files/etc/squid/sensorproxy.passwd"].startswith("sensors:$6$rounds=")
    assert re.search(
        r"^Made 20\d\d-\d\d-\d\d \d\d:\d\d .* by sensorproxy\.$", texts["sensorproxy-kit/README.txt"], re.M
    )
    assert not any("Kit-typed-3" in t for t in texts.values())
    assert credentials.get(Kind.PROXY, w.project()) == "Kit-typed-3"  # "Remember" was ticked by default
