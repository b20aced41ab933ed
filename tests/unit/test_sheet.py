"""The commissioning sheet's content: enabled sensors, the address sensors use, the password only on request."""

from __future__ import annotations

import csv
import io

from core import projectfile, sheet
from core.cli import main
from core.model import Sensor
from tests.conftest import ROOT, make_project

EXAMPLE = projectfile.load(ROOT / "resources" / "example" / "north-plant.toml")


def test_rows_cover_enabled_sensors_with_the_address_sensors_use():
    rows = sheet.rows(EXAMPLE)
    assert [r.name for r in rows] == [s.name for s in EXAMPLE.sensors if s.enabled]
    assert {(r.proxy_host, r.port, r.user, r.password) for r in rows} == {
        ("192.168.40.1", 3128, "sensors", sheet.HIDDEN)
    }
    assert {r.password for r in sheet.rows(EXAMPLE, "Sheet-pw-1")} == {"Sheet-pw-1"}


def test_without_sensor_host_or_authentication():
    project = make_project(Sensor("A", "10.0.0.1"), Sensor("B", "10.0.0.2", enabled=False), port=8080)
    [row] = sheet.rows(project, "ignored")
    assert (row.name, row.proxy_host, row.port, row.user, row.password) == ("A", "192.0.2.10", 8080, "", "")


def test_csv_reads_back_and_html_escapes_what_it_shows():
    table = list(csv.reader(io.StringIO(sheet.to_csv(EXAMPLE))))
    assert table[0][:4] == ["sensor", "sensor address", "enable proxy", "proxy host"]
    assert table[1][:7] == ["Boiler house", "192.168.40.11", "on", "192.168.40.1", "3128", "sensors", sheet.HIDDEN]
    project = make_project(Sensor("Line <1> & co", "10.0.0.1", notes="<script>"))
    page = sheet.to_html(project, generated="today")
    assert "Line &lt;1&gt; &amp; co" in page
    assert "<script>" not in page
    assert "System settings &gt; Basic &gt; Sensor Network Settings" in page


def test_cli_writes_the_sheet_with_the_password_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("SENSORPROXY_PROXY_PASSWORD", "Env-pw-77")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    out = tmp_path / "sheet.csv"
    assert main(["sheet", str(ROOT / "resources" / "example" / "north-plant.toml"), str(out)]) == 0
    assert "Env-pw-77" not in out.read_text(encoding="utf-8-sig")
    assert main(["sheet", str(ROOT / "resources" / "example" / "north-plant.toml"), str(out), "--with-password"]) == 0
    assert "Env-pw-77" in out.read_text(encoding="utf-8-sig")
