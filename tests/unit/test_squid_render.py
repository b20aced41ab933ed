from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from core import squid
from core.model import MAX_NAME, MAX_NOTES, InvalidProject, ParentProxy, Project, Sensor
from core.squid import stock_conf
from tests.conftest import make_project
from tests.squidparse import FAKE_HASH

GOLDEN = Path(__file__).parent / "golden"
SECRETS = squid.Secrets(proxy_password_hash=FAKE_HASH, parent_password="parent-secret")
STOCK = stock_conf()
OLD = (Path(squid.__file__).parent / "data" / "ubuntu-18.04.conf").read_text()

SENSORS = (
    Sensor("PLC-1", "10.20.0.5", notes="Line 1, cabinet 4"),
    Sensor("Gateway Süd", "fd00:20::6"),
    Sensor("Cell 3", "10.20.1.0/24", enabled=False),
    Sensor("HMI %20", "10.20.2.0/28"),
)

VARIANTS: dict[str, Project] = {
    "default": make_project(*SENSORS),
    "auth": make_project(*SENSORS, auth_enabled=True, auth_user="sensors"),
    "open": make_project(*SENSORS, connect_only=False, allowlist_enabled=False),
    "parent": make_project(*SENSORS, port=3129, parent=ParentProxy("upstream.corp.example", 8080, "plant")),
    "parent-nologin": make_project(*SENSORS, parent=ParentProxy("10.1.1.1", 3128)),
    "all-options": make_project(
        *SENSORS,
        port=8080,
        auth_enabled=True,
        auth_user="sensors",
        parent=ParentProxy("upstream.corp.example", 8080, "plant"),
    ),
    "none-enabled": make_project(Sensor("Off", "10.20.0.9", enabled=False), auth_enabled=True, auth_user="sensors"),
}
BLOCK_VARIANTS = ["default", "auth", "open", "parent-nologin", "none-enabled"]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}; run with UPDATE_GOLDEN=1 once and review it"
    assert text == path.read_text()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_dropin_matches_golden(variant):
    rendered = squid.render(VARIANTS[variant], STOCK, secrets=SECRETS)
    assert rendered.layout == "dropin"
    dropin = rendered.file("/etc/squid/conf.d/sensorproxy.conf")
    assert dropin is not None
    assert (dropin.mode, dropin.group) == (0o640, "proxy")
    check_golden(f"dropin-{variant}.conf", dropin.content)


@pytest.mark.parametrize("variant", ["default", "none-enabled"])
def test_sensor_list_matches_golden(variant):
    for conf in (STOCK, OLD):  # the same list beside either layout
        sensor_list = squid.render(VARIANTS[variant], conf).file("/etc/squid/sensorproxy.sensors")
        assert sensor_list is not None
        assert (sensor_list.mode, sensor_list.group, sensor_list.secret) == (0o644, "root", False)
        check_golden(f"sensors-{variant}.txt", sensor_list.content)


def test_every_enabled_sensor_is_one_line_a_prefixed_address_then_its_sensor():
    lines = squid.render_sensors(VARIANTS["default"]).splitlines()
    assert "10.20.0.5/32 # sensor PLC-1 | notes Line%201,%20cabinet%204" in lines
    assert "fd00:20::6/128 # sensor Gateway%20Süd" in lines
    assert "10.20.2.0/28 # sensor HMI%20%2520" in lines
    assert "# disabled sensor Cell%203 | address 10.20.1.0/24" in lines  # a comment: Squid skips it
    assert len([line for line in lines if not line.startswith("#") and line]) == 3


def test_the_longest_sensor_line_stays_far_below_squids_list_line_limit():
    widest = "\U0001f6f0"  # printable, kept as is: 4 bytes, more than any percent-encoded character (3)
    sensor = Sensor(widest * MAX_NAME, "fd00:1234:5678:9abc:def0:1234:5678:9a00/120", notes=widest * MAX_NOTES)
    lines = squid.render_sensors(make_project(sensor)).splitlines()
    assert max(len(line.encode()) for line in lines) < squid.LIST_LINE_BYTES * 0.6


def test_a_sensor_line_too_long_for_squids_list_is_refused(monkeypatch):
    monkeypatch.setattr(squid, "LIST_LINE_BYTES", 60)
    long_notes = make_project(Sensor("A", "10.0.0.1"), Sensor("B", "10.0.0.2", notes="x" * 40))
    with pytest.raises(squid.SquidConfigError, match=r"sensor 2 \(.*\): name and notes are too long"):
        squid.render(long_notes, STOCK)


@pytest.mark.parametrize("variant", BLOCK_VARIANTS)
def test_block_matches_golden(variant):
    rendered = squid.render(VARIANTS[variant], OLD, secrets=SECRETS)
    assert rendered.layout == "block"
    conf = rendered.file("/etc/squid/squid.conf")
    assert conf is not None
    check_golden(f"block-{variant}.conf", conf.content)


def test_block_sits_right_under_the_marker_and_keeps_the_rest():
    conf = squid.render(VARIANTS["default"], OLD).files[0].content
    lines = conf.splitlines()
    at = lines.index(squid.MARKER)
    assert lines[at + 1] == squid.BEGIN
    assert squid.without_block(conf) == OLD


def test_rerendering_replaces_the_block_in_place():
    first = squid.render(VARIANTS["default"], OLD).files[0].content
    changed = replace(VARIANTS["default"], sensors=SENSORS[:1])
    second = squid.render(changed, first).files[0].content
    assert second.count(squid.BEGIN) == 1
    assert second == squid.render(changed, OLD).files[0].content


def test_block_is_kept_even_when_conf_d_is_included_later():
    conf = squid.render(VARIANTS["default"], OLD).files[0].content
    conf += "include /etc/squid/conf.d/*.conf\n"
    assert squid.render(VARIANTS["default"], conf).layout == "block"


def test_ubuntu_style_include_without_extension_is_recognised():
    conf = STOCK.replace("include /etc/squid/conf.d/*.conf", "include /etc/squid/conf.d/*")
    assert squid.render(VARIANTS["default"], conf).layout == "dropin"


@pytest.mark.parametrize(
    ("release", "layout"),
    [("debian-11", "dropin"), ("debian-12", "dropin"), ("debian-13", "dropin"), ("ubuntu-18.04", "block")],
)
def test_each_releases_stock_squid_conf_gets_its_layout(release, layout):
    """The stock configs of the releases the lab runs (and Ubuntu 18.04's, which it cannot): a drop-in
    where the stock file includes conf.d, the marked block where it does not."""
    data = Path(__file__).parent / "data" / "stock" / f"{release}.conf"
    stock = (
        data.read_text() if data.exists() else (Path(squid.__file__).parent / "data" / f"{release}.conf").read_text()
    )
    rendered = squid.render(VARIANTS["auth"], stock, secrets=SECRETS)
    assert rendered.layout == layout
    if layout == "dropin":
        assert rendered.file(squid.SquidLayout().squid_conf) is None  # the stock file is left as it is
        check_golden("dropin-auth.conf", rendered.file(squid.SquidLayout().dropin).content)
    else:
        check_golden("block-auth.conf", rendered.file(squid.SquidLayout().squid_conf).content)


def test_refuses_a_squid_conf_with_neither_include_nor_marker():
    conf = "\n".join(line for line in OLD.splitlines() if "INSERT YOUR OWN" not in line)
    with pytest.raises(squid.SquidConfigError, match="no safe place"):
        squid.render(VARIANTS["default"], conf)


def test_refuses_a_damaged_block():
    with pytest.raises(squid.SquidConfigError, match="damaged"):
        squid.render(VARIANTS["default"], OLD + squid.BEGIN + "\n")


def test_parent_login_in_block_layout_is_refused():
    with pytest.raises(squid.SquidConfigError, match="world-readable"):
        squid.render(VARIANTS["parent"], OLD, secrets=SECRETS)


def test_rendering_is_deterministic():
    a = squid.render(VARIANTS["all-options"], STOCK, secrets=SECRETS)
    b = squid.render(VARIANTS["all-options"], STOCK, secrets=SECRETS)
    assert a == b


def test_without_secrets_the_render_is_a_preview_only():
    preview = squid.render(VARIANTS["all-options"], STOCK)
    assert not preview.complete
    assert [f.path for f in preview.files] == ["/etc/squid/conf.d/sensorproxy.conf", "/etc/squid/sensorproxy.sensors"]
    assert f"login=plant:{squid.MASK}" in preview.files[0].content
    full = squid.render(VARIANTS["all-options"], STOCK, secrets=SECRETS)
    assert full.complete
    passwd = full.file("/etc/squid/sensorproxy.passwd")
    assert passwd is not None
    assert passwd.secret
    assert (passwd.content, passwd.mode, passwd.group) == (f"sensors:{FAKE_HASH}\n", 0o640, "proxy")


def test_no_password_ever_appears_in_the_config_with_auth():
    rendered = squid.render(VARIANTS["auth"], STOCK, secrets=SECRETS)
    dropin = rendered.files[0].content
    assert FAKE_HASH not in dropin
    assert "parent-secret" not in dropin


def test_an_invalid_project_does_not_render():
    bad = make_project(Sensor("X\nhttp_access allow all", "10.0.0.1"))
    with pytest.raises(
        InvalidProject, match=r"sensor 1 \(X\\nhttp_access allow all\), name: name contains an invisible"
    ):
        squid.render(bad, STOCK)


def test_password_line_refuses_something_that_is_not_a_hash():
    with pytest.raises(ValueError, match="not a bcrypt"):
        squid.password_line("sensors", "plaintext")


@pytest.mark.parametrize("text", ["Boiler room", "Süd|Nord #2 100%", "a'b\"c\\d", "日本語 センサー"])
def test_comment_encoding_round_trips_and_has_no_whitespace(text):
    encoded = squid.encode(text)
    assert squid.decode(encoded) == text
    assert not any(c.isspace() or c in "#|'\"\\" for c in encoded)
