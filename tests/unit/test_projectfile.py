from __future__ import annotations

from pathlib import Path

import pytest

from core import projectfile
from core.model import AuthMethod, ParentProxy, Sensor
from core.projectfile import ProjectFileError
from tests.conftest import ROOT, make_project

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


def test_round_trip_keeps_everything(tmp_path, three_sensors):
    project = make_project(
        *three_sensors,
        port=3129,
        auth_enabled=True,
        auth_user="sensors",
        parent=ParentProxy("upstream.example", 8080, "plant"),
        allow_wide_ranges=True,
    )
    path = tmp_path / "site.toml"
    projectfile.save(project, path)
    assert projectfile.load(path) == project
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_example_project_loads_and_is_valid():
    from core.model import validate

    project = projectfile.load(EXAMPLE)
    assert project.site == "North Plant"
    assert project.ssh.auth is AuthMethod.KEY
    assert 3 <= len(project.sensors) <= 5
    assert validate(project) == []


def test_saved_file_holds_no_password_field(tmp_path):
    path = tmp_path / "p.toml"
    projectfile.save(make_project(Sensor("A", "10.0.0.1"), auth_enabled=True, auth_user="u"), path)
    assert "password" not in path.read_text().lower()


def test_save_failure_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p.toml"
    projectfile.save(make_project(Sensor("A", "10.0.0.1")), path)
    before = path.read_bytes()

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.fsync", boom)
    with pytest.raises(OSError, match="No space"):
        projectfile.save(make_project(Sensor("B", "10.0.0.2")), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return projectfile.load(path)


GOOD = EXAMPLE.read_text()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("schema = 1\n[site\nname='x'\n", 2, "not valid TOML"),
        (GOOD.replace("schema = 1", "schema = 7"), None, "newer sensorproxy (schema 7"),
        (GOOD.replace("schema = 1\n", ""), None, "no 'schema = N' line"),
        (GOOD.replace("port = 3128", 'port = "3128"'), 16, "proxy.port: should be a whole number"),
        (GOOD.replace('auth = "key"', 'auth = "telnet"'), 11, "ssh.auth: 'telnet' is not one of"),
        (GOOD.replace('address = "192.168.41.13"', "address = 5"), 44, "sensors[3].address: should be text"),
        (GOOD.replace('name = "Substation"\n', ""), 48, "sensors[4].name: is missing"),
        (
            GOOD.replace("enabled = false", 'enabled = "no"'),
            57,
            "sensors[5].enabled: should be true or false",
        ),
        (GOOD.replace("[ssh]", "[sshx]"), 7, "'sshx' at the top: unknown key; did you mean ssh?"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path, text, line, message):
    with pytest.raises(ProjectFileError) as info:
        load_text(tmp_path, text)
    assert message in str(info.value)
    assert str(tmp_path / "bad.toml") in str(info.value)
    assert info.value.line == line
    if line:
        assert f"line {line}:" in str(info.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.toml"
    path.write_bytes(b"schema = 1\n\xff\xfe")
    with pytest.raises(ProjectFileError, match="line 2: the file is not UTF-8"):
        projectfile.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ProjectFileError, match="cannot read the file"):
        projectfile.load(tmp_path / "nope.toml")


def test_bom_written_by_an_editor_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
    assert projectfile.load(path) == projectfile.load(EXAMPLE)
