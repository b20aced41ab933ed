from __future__ import annotations

import subprocess
import sys

import pytest

from core import projectfile
from core.cli import main
from core.model import Sensor
from tests.conftest import ROOT

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def run(*args: str) -> int:
    return main([str(a) for a in args])


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "site.toml"
    assert run("new", path, "--site", "Plant", "--ssh", "admin@192.0.2.10:2222", "--key", "~/.ssh/id", "--sudo") == 0
    return path


def test_new_creates_a_project(project):
    p = projectfile.load(project)
    assert (p.site, p.ssh.user, p.ssh.host, p.ssh.port, p.ssh.key_path, p.ssh.sudo) == (
        "Plant",
        "admin",
        "192.0.2.10",
        2222,
        "~/.ssh/id",
        True,
    )


def test_new_accepts_bracketed_ipv6(tmp_path):
    path = tmp_path / "v6.toml"
    assert run("new", path, "--site", "P", "--ssh", "root@[fd00::1]:22") == 0
    assert projectfile.load(path).ssh.host == "fd00::1"


def test_new_refuses_to_overwrite(project, capsys):
    assert run("new", project, "--site", "Other", "--ssh", "root@192.0.2.1") == 1
    assert "exists already" in capsys.readouterr().err
    assert projectfile.load(project).site == "Plant"


def test_new_refuses_a_bad_site_name(tmp_path, capsys):
    assert run("new", tmp_path / "x.toml", "--site", "a\nb", "--ssh", "root@192.0.2.1") == 1
    assert "site.name" in capsys.readouterr().err
    assert not (tmp_path / "x.toml").exists()


def test_bad_ssh_argument_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        run("new", tmp_path / "x.toml", "--site", "P", "--ssh", "nobody")
    assert info.value.code == 2
    assert "USER@HOST" in capsys.readouterr().err


def test_import_export_csv(project, tmp_path, capsys):
    csv = tmp_path / "in.csv"
    csv.write_text("name;address;notes\nPLC-1;10.0.0.1;left\nPLC-2;10.0.0.2;\n")
    assert run("import-csv", project, csv) == 0
    assert projectfile.load(project).sensors == (
        Sensor("PLC-1", "10.0.0.1", True, "left"),
        Sensor("PLC-2", "10.0.0.2"),
    )
    out = tmp_path / "out.csv"
    assert run("export-csv", project, out) == 0
    assert "PLC-2,10.0.0.2" in out.read_text(encoding="utf-8-sig")


def test_import_with_bad_rows_writes_nothing(project, tmp_path, capsys):
    before = project.read_bytes()
    csv = tmp_path / "bad.csv"
    csv.write_text("PLC-1\nhttp_access allow all,10.0.0.1\nok,10.0.0.300\nhost,plc.local\nall,0.0.0.0/0\n")
    assert run("import-csv", project, csv) == 1
    err = capsys.readouterr().err
    for line in ("line 1:", "line 3:", "line 4:", "line 5:"):
        assert line in err
    assert project.read_bytes() == before


def test_import_skipping_bad_rows_keeps_the_good_ones(project, tmp_path, capsys):
    csv = tmp_path / "mixed.csv"
    csv.write_text("good,10.0.0.1\nbad,10.0.0.300\n")
    assert run("import-csv", project, csv, "--skip-bad-rows") == 0
    assert "skipped" in capsys.readouterr().err
    assert [s.name for s in projectfile.load(project).sensors] == ["good"]


def test_import_that_clashes_with_existing_sensors_writes_nothing(project, tmp_path, capsys):
    csv = tmp_path / "a.csv"
    csv.write_text("A,10.0.0.1\n")
    assert run("import-csv", project, csv) == 0
    before = project.read_bytes()
    assert run("import-csv", project, csv) == 1
    assert "sensors row 2" in capsys.readouterr().err
    assert project.read_bytes() == before


def test_validate_prints_every_problem(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        EXAMPLE.read_text().replace('"192.168.41.12"', '"10.0.0.300"').replace('"fd00:40::21"', '"0.0.0.0/0"')
    )
    assert run("validate", path) == 1
    out = capsys.readouterr().out
    assert "sensors row 2, address" in out
    assert "sensors row 4, address" in out


def test_validate_ok(capsys):
    assert run("validate", EXAMPLE) == 0
    assert "valid (4 of 5 sensors enabled)" in capsys.readouterr().out


def test_render_default_and_given_squid_conf(tmp_path, capsys):
    assert run("render", EXAMPLE) == 0
    out = capsys.readouterr().out
    assert "### /etc/squid/conf.d/sensorproxy.conf (root:proxy 0640)" in out
    assert 'acl sensorproxy_sensors src "/etc/squid/sensorproxy.sensors"' in out
    assert "### /etc/squid/sensorproxy.sensors (root:root 0644)" in out
    assert "\n192.168.40.11/32 # sensor Boiler%20house | notes Rack%20B2,%20port%2014\n" in out
    old = ROOT / "core" / "data" / "ubuntu-18.04.conf"
    assert run("render", EXAMPLE, "--squid-conf", old) == 0
    assert "### /etc/squid/squid.conf" in capsys.readouterr().out


def test_render_refuses_an_unusable_squid_conf(tmp_path, capsys):
    conf = tmp_path / "squid.conf"
    conf.write_text("http_port 3128\n")
    assert run("render", EXAMPLE, "--squid-conf", conf) == 1
    assert "no safe place" in capsys.readouterr().err


def test_console_script_help_documents_exit_codes():
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "--help"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert "exit codes:" in out
    for command in ("new", "import-csv", "export-csv", "validate", "render"):
        assert command in out
