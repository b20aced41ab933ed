"""The commissioning sheet's content: enabled sensors, the address sensors use, the password only on request."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from dataclasses import replace

import pytest

from cli.main import main
from core import projectfile, sheet
from core.model import Sensor, Software
from tests.conftest import ROOT, make_project, require_tool

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
    assert table[0][:5] == ["sensor", "sensor address", "settings page", "enable proxy", "proxy host"]
    where = "System settings > Basic > Sensor Network Settings"
    assert table[1][:8] == [
        "Boiler house",
        "192.168.40.11",
        where,
        "on",
        "192.168.40.1",
        "3128",
        "sensors",
        sheet.HIDDEN,
    ]
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


def test_cli_writes_a_pdf_when_the_name_says_pdf_and_its_text_copies_exactly(tmp_path):
    """A fresh process with no display: the PDF is real (pdftotext reads it), private (0600), and the
    values read back letter for letter: no "ﬁ" ligature in a user name or password."""
    pdftotext = require_tool("pdftotext")
    project = tmp_path / "site.toml"
    project.write_text(
        (ROOT / "resources" / "example" / "north-plant.toml").read_text().replace('"sensors"', '"office"')
    )
    out = tmp_path / "sheet.pdf"
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "QT_QPA_PLATFORM", "WAYLAND_DISPLAY"}}
    env["SENSORPROXY_PROXY_PASSWORD"] = "fifi-flow-ffl"
    proc = subprocess.run(
        [sys.executable, "-m", "cli", "sheet", str(project), str(out), "--with-password"],
        capture_output=True, text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    text = subprocess.run([pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Commissioning sheet — North Plant" in text
    assert text.count("office") >= 4  # the login line and each sensor's row
    assert text.count("fifi-flow-ffl") == 4
    assert not any(0xFB00 <= ord(c) <= 0xFB06 for c in text)


def test_cli_sheet_format_comes_from_the_file_name(tmp_path, capsys):
    example = str(ROOT / "resources" / "example" / "north-plant.toml")
    assert main(["sheet", example, str(tmp_path / "sheet.txt")]) == 2
    assert "must end in .pdf or .csv" in capsys.readouterr().err
    assert not (tmp_path / "sheet.txt").exists()
    out = tmp_path / "sheet.CSV"
    assert main(["sheet", example, str(out)]) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("sensor,sensor address,")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_a_sheet_never_tells_sensors_to_use_an_address_they_cannot_reach(tmp_path, capsys):
    tunnel = make_project(Sensor("A", "10.0.0.1"))
    tunnel = replace(tunnel, ssh=replace(tunnel.ssh, host="127.0.0.1", port=2222))
    with pytest.raises(sheet.SheetError, match=r"the SSH host 127\.0\.0\.1 is a loopback address.*Address sensors use"):
        sheet.rows(tunnel)
    path = tmp_path / "tunnel.toml"
    projectfile.save(tunnel, path)
    assert main(["sheet", str(path), str(tmp_path / "s.csv")]) == 1
    assert "fill in “Address sensors use”" in capsys.readouterr().err
    assert not (tmp_path / "s.csv").exists()
    fixed = replace(tunnel, proxy=replace(tunnel.proxy, sensor_host="10.0.0.254"))
    assert {r.proxy_host for r in sheet.rows(fixed)} == {"10.0.0.254"}


def test_a_mixed_site_tells_each_sensor_where_its_settings_are():
    """Legacy sensors and 22.x ones keep their proxy settings on different pages, with other field names;
    the sheet says which for each row, and what holds for all: Squid's port, NTP, no TLS inspection."""
    project = make_project(Sensor("Old", "10.0.0.1"), Sensor("New", "10.0.0.2", software=Software.V22))
    old, new = sheet.rows(project)
    assert old.where == "System settings > Basic > Sensor Network Settings"
    assert new.where == "System settings > Sensor Network Settings"
    page = sheet.to_html(project, generated="today")
    assert "<td>New</td><td>10.0.0.2</td><td>System settings &gt; Sensor Network Settings</td>" in page
    assert "Enable Proxy, Proxy Host, Port, Username, Password" in page
    assert "The port is Squid's port (3128), not 443" in page
    assert "NTP does not go through the proxy" in page
    assert "may inspect TLS" in page
    table = list(csv.reader(io.StringIO(sheet.to_csv(project))))
    assert [row[2] for row in table[1:]] == [old.where, new.where]


def test_the_software_is_saved_only_for_sensors_that_are_not_legacy(tmp_path):
    project = make_project(Sensor("Old", "10.0.0.1"), Sensor("New", "10.0.0.2", software=Software.V22))
    projectfile.save(project, tmp_path / "p.toml")
    text = (tmp_path / "p.toml").read_text()
    assert text.count("software") == 1
    assert projectfile.load(tmp_path / "p.toml") == project
    (tmp_path / "p.toml").write_text(text.replace('"22.x+"', '"21.9"'))
    with pytest.raises(
        projectfile.ProjectFileError, match=r"sensors\[2\]\.software: '21\.9' should be 'legacy' or '22\.x\+'"
    ):
        projectfile.load(tmp_path / "p.toml")
