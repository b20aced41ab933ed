"""`sensorproxy set` and `sensorproxy sensor`: every project field from the command line, validated as the
window validates it, saved atomically; a refused change leaves the file byte for byte as it was."""

from __future__ import annotations

import pytest

from cli.main import main
from core import projectfile
from core.model import DEFAULT_ALLOWLIST
from core.project_keys import settable as settable_keys
from tests.conftest import ROOT

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site.toml"
    path.write_bytes(EXAMPLE.read_bytes())
    return path


def run(*args: object) -> int:
    return main([str(a) for a in args])


def test_set_changes_fields_of_every_kind(site, capsys):
    settings = ["proxy.port=3129", "proxy.auth_user=dfiot", "proxy.allowlist+=.example.net", "ssh.sudo=false",
                "site=South Plant", "proxy.parent.host=10.1.1.1", "proxy.parent.port=8080"]  # fmt: skip
    assert run("set", site, *settings) == 0
    p = projectfile.load(site)
    assert (p.proxy.port, p.proxy.auth_user, p.ssh.sudo, p.site) == (3129, "dfiot", False, "South Plant")
    assert p.proxy.allowlist == (*DEFAULT_ALLOWLIST, ".example.net")
    assert p.proxy.parent is not None
    assert (p.proxy.parent.host, p.proxy.parent.port) == ("10.1.1.1", 8080)
    assert "set proxy.port, proxy.auth_user" in capsys.readouterr().out
    assert run("set", site, "proxy.allowlist-=.example.net", "proxy.parent=none", "proxy.allow_wide_ranges=yes") == 0
    p = projectfile.load(site)
    assert (p.proxy.allowlist, p.proxy.parent, p.proxy.allow_wide_ranges) == (DEFAULT_ALLOWLIST, None, True)


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("proxy.port=99999", "Proxy port: port 99999 is not between 1 and 65535"),
        ("proxy.port=abc", "proxy.port: 'abc' is not a whole number"),
        ("proxy.sudo=true", "'proxy.sudo' is not a project setting; did you mean ssh.sudo?"),
        ("proxy.alowlist+=.x.net", "did you mean proxy.allowlist?"),
        ("proxy.allowlist+=bad domain", "Destinations: 'bad domain' is not a domain name"),
        ("proxy.sensor_host=127.0.0.1", "Address sensors use: 127.0.0.1 is a loopback address"),
        ("ssh.auth=telnet", "'telnet' is not one of key, password, agent"),
        ("proxy.connect_only=maybe", "proxy.connect_only: 'maybe' is not true or false"),
        ("proxy.port+=1", "proxy.port is not a list"),
        ("no equals sign", "is not KEY=VALUE"),
    ],
)
def test_a_refused_setting_says_why_and_leaves_the_file_untouched(site, setting, said, capsys):
    before = site.read_bytes()
    assert run("set", site, "proxy.port=3130", setting) == 1
    assert said in capsys.readouterr().err
    assert site.read_bytes() == before


def test_every_field_of_the_project_file_can_be_set():
    """A new project field without a `set` key would leave headless users editing TOML by hand."""
    file_keys = {f"{t}.{k}" for t, keys in projectfile.KNOWN_KEYS.items() if t not in ("", "sensors") for k in keys}
    assert file_keys - {"proxy.parent"} <= set(settable_keys())


def test_sensor_add_remove_enable_disable(site, capsys):
    assert run("sensor", "add", site, "Pump 7", "192.168.43.7", "--notes", "Hall 3") == 0
    assert "added sensor 6 (Pump 7)" in capsys.readouterr().out
    assert run("sensor", "disable", site, "pump 7", "Boiler house") == 0
    p = projectfile.load(site)
    assert [(s.name, s.enabled) for s in p.sensors if s.name in ("Pump 7", "Boiler house")] == [
        ("Boiler house", False),
        ("Pump 7", False),
    ]
    assert run("sensor", "enable", site, "192.168.43.7") == 0  # by address too
    assert run("sensor", "remove", site, "Substation") == 0
    p = projectfile.load(site)
    assert "Substation" not in [s.name for s in p.sensors]
    assert [s.enabled for s in p.sensors if s.name == "Pump 7"] == [True]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("add", "boiler HOUSE", "192.168.50.1"), "'boiler HOUSE' is also the name of sensor 1 (Boiler house)"),
        (("add", "Pump", "192.168.40.11"), "192.168.40.11 is also the address of sensor 1 (Boiler house)"),
        (("add", "Pump", "10.0.0.0/8"), "allow wide ranges explicitly"),
        (("add", "Pump", "pump.plant.local"), "host names are not allowed"),
        (("remove", "Nobody"), "no sensor is named 'Nobody'"),
    ],
)
def test_a_refused_sensor_change_leaves_the_file_untouched(site, args, said, capsys):
    command, *rest = args
    before = site.read_bytes()
    assert run("sensor", command, site, *rest) == 1
    assert said in capsys.readouterr().err
    assert site.read_bytes() == before


def test_unknown_keys_in_a_project_file_are_errors_with_line_and_nearest_key(site, capsys):
    text = site.read_text()
    site.write_text(text.replace("allowlist = [", "alowlist = ["))
    assert run("validate", site) == 1
    err = capsys.readouterr().err
    line = text.splitlines().index("allowlist = [") + 1
    assert f"line {line}: 'alowlist' in [proxy]: unknown key; did you mean allowlist?" in err
    site.write_text(text.replace("schema = 1", "schema = 1\nbogus = 1"))
    assert run("validate", site) == 1
    assert "line 3: 'bogus' at the top: unknown key" in capsys.readouterr().err
    site.write_text(text.replace('notes = "IPv6 only"', 'notes = "IPv6 only"\nenabeld = false'))
    assert run("validate", site) == 1
    assert "'enabeld' in sensor 4: unknown key; did you mean enabled?" in capsys.readouterr().err


def test_a_sensor_can_be_removed_from_a_project_that_already_has_problems(site, capsys):
    """Removing a sensor renumbers the ones after it: their old problems are not new problems."""
    text = site.read_text().replace('address = "fd00:40::21"', 'address = "fd00:40::zz"')  # sensor 4 broken
    site.write_text(text)
    assert run("sensor", "remove", site, "Boiler house") == 0
    assert [s.name for s in projectfile.load(site).sensors][:1] == ["Packaging line 1"]
    assert run("validate", site) == 1
    assert "sensor 3 (Substation), address: 'fd00:40::zz'" in capsys.readouterr().out


def test_a_sensor_on_22x_is_added_with_its_software(site):
    assert run("sensor", "add", site, "PLC 8", "192.168.40.60", "--software", "22.x+") == 0
    added = projectfile.load(site).sensors[-1]
    assert (added.name, added.software.value) == ("PLC 8", "22.x+")
    assert run("sensor", "add", site, "PLC 9", "192.168.40.61") == 0
    assert projectfile.load(site).sensors[-1].software.value == "legacy"
