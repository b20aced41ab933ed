from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from cli.main import main
from core import projectfile
from core.model import Sensor, SshTarget
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
    assert "Site: site name contains an invisible or control character" in capsys.readouterr().err
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
    out, err = capsys.readouterr()
    assert f"skipped {csv}, line 2: '10.0.0.300' is not an IPv4" in err
    assert out.startswith("imported 1, skipped 1 ")
    assert [s.name for s in projectfile.load(project).sensors] == ["good"]


def test_skipped_rows_name_their_csv_lines_and_clashes_with_the_project(project, tmp_path, capsys):
    first = tmp_path / "first.csv"
    first.write_text("name,address\nPump,10.0.0.1\n")
    assert run("import-csv", project, first) == 0
    capsys.readouterr()
    second = tmp_path / "second.csv"
    second.write_text("name,address\npump,10.0.0.9\nValve,10.0.0.1\nNew,10.0.0.2\nnew,10.0.0.3\n")
    assert run("import-csv", project, second, "--skip-bad-rows") == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"skipped {second}, line 2: 'pump' is also the name of sensor 1 (Pump)",
        f"skipped {second}, line 3: 10.0.0.1 is also the address of sensor 1 (Pump)",
        f"skipped {second}, line 5: 'new' is also the name of line 4",
    ]
    assert out.startswith("imported 1, skipped 3 ")
    assert [s.name for s in projectfile.load(project).sensors] == ["Pump", "New"]
    before = project.read_bytes()
    assert run("import-csv", project, second, "--skip-bad-rows") == 0  # everything clashes now
    assert capsys.readouterr().out.startswith("imported 0, skipped 4 ")
    assert project.read_bytes() == before


def test_a_csv_where_the_project_belongs_is_named_as_such(project, tmp_path, capsys):
    csv = tmp_path / "sensors.csv"
    csv.write_text("Pump,10.0.0.1\n")
    assert run("import-csv", csv, project) == 1  # the arguments swapped
    assert "sensors.csv: this is a CSV sensor list, not a project file" in capsys.readouterr().err
    assert run("validate", csv) == 1
    assert "this is a CSV sensor list, not a project file" in capsys.readouterr().err
    renamed = tmp_path / "sensors.toml"
    renamed.write_text("name,address\nPump,10.0.0.1\n")
    assert run("validate", renamed) == 1
    assert "this is a CSV sensor list" in capsys.readouterr().err
    copy = tmp_path / "site-copy.csv"
    copy.write_bytes(project.read_bytes())
    assert run("import-csv", project, copy) == 1  # a project given as the CSV
    assert "this is a sensorproxy project file, not a CSV sensor list" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["rollback", "remove"])
def test_server_changing_commands_ask_or_need_yes(project, command, capsys, monkeypatch):
    """With no terminal and no --yes, nothing connects: the command line is incomplete (exit 2)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run(command, project) == 2
    err = capsys.readouterr().err
    assert "there is no terminal to ask on: pass --yes" in err
    assert "site.toml" in err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked = []
    monkeypatch.setattr("sys.stdin", Terminal(""))
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or "n")
    assert run(command, project) == 1
    assert "nothing was changed" in capsys.readouterr().err
    assert len(asked) == 1
    assert asked[0].endswith("[y/N] ")


def test_import_that_clashes_with_existing_sensors_writes_nothing(project, tmp_path, capsys):
    csv = tmp_path / "a.csv"
    csv.write_text("A,10.0.0.1\n")
    assert run("import-csv", project, csv) == 0
    before = project.read_bytes()
    assert run("import-csv", project, csv) == 1
    assert "line 1: 'A' is also the name of sensor 1 (A)" in capsys.readouterr().err
    assert project.read_bytes() == before


def test_validate_prints_every_problem(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        EXAMPLE.read_text().replace('"192.168.41.12"', '"10.0.0.300"').replace('"fd00:40::21"', '"0.0.0.0/0"')
    )
    assert run("validate", path) == 1
    out = capsys.readouterr().out
    assert "sensor 2 (Packaging line 1), address: '10.0.0.300' is not an IPv4" in out
    assert "sensor 4 (Substation), address: 0.0.0.0/0 covers" in out


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
        [sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert "exit codes:" in out
    for command in ("new", "import-csv", "export-csv", "validate", "render"):
        assert command in out


def test_a_port_that_is_not_ssh_gets_the_windows_words_and_no_traceback(tmp_path):
    """The same failure reads the same from the command line as from the window: one plain sentence."""
    from tests.conftest import Listener

    listener = Listener()
    try:
        path = tmp_path / "site.toml"
        projectfile.save(
            replace(projectfile.load(EXAMPLE), ssh=SshTarget("127.0.0.1", "root", port=listener.port)), path
        )
        env = {**os.environ, "SENSORPROXY_CONFIG_DIR": str(tmp_path / "config"), "SENSORPROXY_PROXY_PASSWORD": "x"}
        proc = subprocess.run(
            [sys.executable, "-m", "cli", "plan", str(path)],
            capture_output=True, text=True, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, timeout=60, check=False,
        )  # fmt: skip
    finally:
        listener.close()
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"sensorproxy: No SSH server on that port: port {listener.port} on 127.0.0.1 answers, but not as an SSH "
        "server (it hung up without an SSH greeting); check the SSH port"
    ]
    assert listener.connections == 1


def test_a_missing_password_names_the_real_project_file_and_asks_in_words(tmp_path, capsys, monkeypatch, memory):
    path = tmp_path / "turbine.toml"
    path.write_bytes(EXAMPLE.read_bytes())
    monkeypatch.delenv("SENSORPROXY_PROXY_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert run("sheet", path, tmp_path / "sheet.csv", "--with-password") == 1
    err = capsys.readouterr().err
    assert "the password of proxy user sensors (site North Plant) is needed" in err
    assert f"`sensorproxy credentials set {path} proxy`" in err
    assert "PROJECT" not in err


def test_apply_without_a_terminal_or_yes_refuses_before_connecting(tmp_path, capsys, monkeypatch):
    from tests.conftest import Listener

    listener = Listener()
    try:
        path = tmp_path / "site.toml"
        projectfile.save(
            replace(projectfile.load(EXAMPLE), ssh=SshTarget("127.0.0.1", "root", port=listener.port)), path
        )
        monkeypatch.setattr("sys.stdin", io.StringIO(""))
        assert run("apply", path) == 2
    finally:
        listener.close()
    assert "there is no terminal to ask on: pass --yes" in capsys.readouterr().err
    assert listener.connections == 0
