from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import replace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.model import ParentProxy, Problem, Sensor, address_problem, text_problem, validate, validate_sensors
from tests.conftest import make_project


def problems_of(*sensors: Sensor, allow_wide: bool = False) -> list[str]:
    return [str(p) for p in validate_sensors(sensors, allow_wide=allow_wide)]


def test_valid_project_has_no_problems(three_sensors):
    assert validate(make_project(*three_sensors)) == []


@pytest.mark.parametrize(
    ("name", "address", "field", "reason"),
    [
        ("PLC-1\nhttp_access allow all", "10.0.0.5", "name", "control character"),
        ("PLC-1", "10.0.0.300", "address", "not an IPv4 or IPv6 address"),
        ("PLC-1", "10.0.0.5 10.0.0.6", "address", "whitespace"),
        ("PLC-1", "plc1.plant.local", "address", "host names are not allowed"),
        ("PLC-1", "0.0.0.0/0", "address", "open the proxy to everyone"),
        ("PLC-1", "::/0", "address", "open the proxy to everyone"),
        ("PLC-1", "10.0.0.0/8", "address", "use /16 or narrower"),
        ("PLC-1", "fd00::/32", "address", "use /48 or narrower"),
        ("PLC-1", "10.0.0.1/24", "address", "did you mean 10.0.0.0/24"),
        ("PLC-1", "127.0.0.1", "address", "loopback"),
        ("PLC-1", "224.0.0.1", "address", "multicast"),
        ("PLC-1", "0.0.0.0", "address", "unspecified"),
        ("PLC-1", "fe80::1%eth0", "address", "zone"),
        ("PLC-1", "", "address", "empty"),
        ("", "10.0.0.5", "name", "empty"),
        (" PLC-1", "10.0.0.5", "name", "spaces"),
        ('PLC "1"', "10.0.0.5", "name", "quotes"),
        ("PLC\u202e1", "10.0.0.5", "name", "invisible"),
        ("PLC\t1", "10.0.0.5", "name", "control character"),
        ("P" * 65, "10.0.0.5", "name", "at most 64"),
    ],
)
def test_bad_sensor_is_refused_with_row_field_and_reason(name, address, field, reason):
    ok = Sensor("Good", "10.9.9.9")
    problems = validate_sensors((ok, Sensor(name, address)))
    assert len(problems) == 1, problems
    assert problems[0].row == 2
    assert problems[0].field == field
    assert reason in problems[0].message
    assert str(problems[0]).startswith(f"sensors row 2, {field}: ")


def test_wide_ranges_pass_only_when_allowed_explicitly():
    wide = Sensor("All", "10.0.0.0/8")
    assert problems_of(wide)
    assert problems_of(wide, allow_wide=True) == []
    assert problems_of(Sensor("Everyone", "0.0.0.0/0"), allow_wide=True) == []


def test_names_are_unique_ignoring_case():
    problems = validate_sensors((Sensor("PLC-1", "10.0.0.1"), Sensor("plc-1", "10.0.0.2")))
    assert [(p.row, p.field) for p in problems] == [(2, "name")]
    assert "row 1" in problems[0].message


def test_duplicate_address_names_the_other_row():
    problems = validate_sensors((Sensor("A", "10.0.0.1"), Sensor("B", "10.0.0.2"), Sensor("C", "10.0.0.1")))
    assert [(p.row, p.field) for p in problems] == [(3, "address")]
    assert "row 1 (A)" in problems[0].message


def test_host_inside_a_listed_subnet_is_refused_in_either_order():
    for sensors in (
        (Sensor("Net", "10.0.1.0/24"), Sensor("Host", "10.0.1.7")),
        (Sensor("Host", "10.0.1.7"), Sensor("Net", "10.0.1.0/24")),
    ):
        problems = validate_sensors(sensors)
        assert len(problems) == 1
        assert "10.0.1.7" in problems[0].message or "10.0.1.0/24" in problems[0].message


def test_overlapping_subnets_and_ipv6_are_checked_separately_from_ipv4():
    assert len(validate_sensors((Sensor("A", "10.0.0.0/23"), Sensor("B", "10.0.1.0/24")))) == 1
    assert validate_sensors((Sensor("A", "10.0.0.0/24"), Sensor("B", "10.0.1.0/24"))) == []
    assert validate_sensors((Sensor("A", "::a00:5"), Sensor("B", "10.0.0.5"))) == []
    assert len(validate_sensors((Sensor("A", "fd00::/64"), Sensor("B", "fd00::7")))) == 1


def test_every_problem_is_reported_not_just_the_first():
    sensors = tuple(Sensor(f"S{i}", "10.0.0.300") for i in range(5))
    assert [p.row for p in validate_sensors(sensors)] == [1, 2, 3, 4, 5]


def test_overlap_sweep_scales_to_ten_thousand_sensors():
    sensors = tuple(Sensor(f"S{i}", f"10.{i // 250}.{i % 250}.1") for i in range(10_000))
    assert validate_sensors(sensors) == []
    dup = (*sensors, Sensor("dup", "10.3.3.1"))
    assert [p.row for p in validate_sensors(dup)] == [10_001]


@pytest.mark.parametrize(
    ("domains", "reason"),
    [
        ((".azure-devices.net", ".azure-devices.net"), "listed twice"),
        ((".azure-devices.net", "hub.azure-devices.net"), "covered by .azure-devices.net"),
        ((".windows.net", ".blob.core.windows.net"), "covered by .windows.net"),
        (("azure-devices.net", ".azure-devices.net"), "covered by .azure-devices.net"),
        (("bad domain.com",), "not a domain name"),
        (("10.0.0.1",), "IP address"),
        (("http_access",), "not a domain name"),
        ((), "empty"),
    ],
)
def test_allowlist_problems(domains, reason):
    problems = validate(make_project(Sensor("A", "10.0.0.1"), allowlist=domains))
    assert any(reason in p.message and p.field == "allowlist" for p in problems), problems


def test_proxy_settings_problems():
    project = make_project(
        Sensor("A", "10.0.0.1"),
        port=70000,
        auth_enabled=True,
        auth_user="bad user",
        parent=ParentProxy("not a host", 0, "x y"),
    )
    fields = {p.field for p in validate(project)}
    assert fields == {"port", "auth_user", "parent.host", "parent.port", "parent.user"}


def test_ssh_and_site_problems():
    project = make_project(Sensor("A", "10.0.0.1"))
    project = replace(project, site="", ssh=replace(project.ssh, host="a b", user="", port=0))
    where = {(p.section, p.field) for p in validate(project)}
    assert where == {("site", "name"), ("ssh", "host"), ("ssh", "user"), ("ssh", "port")}


def test_problem_location_text():
    assert str(Problem("proxy", "port", "bad")) == "proxy.port: bad"
    assert str(Problem("sensors", "address", "bad", 3)) == "sensors row 3, address: bad"


def test_normalized_uses_canonical_addresses():
    project = make_project(Sensor("A", "FD00:0::5"), Sensor("B", "10.0.0.7/32"))
    assert [s.address for s in project.normalized().sensors] == ["fd00::5", "10.0.0.7"]


def _refusal(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """What address_problem refuses, told by the ipaddress module's own properties."""
    first = net.network_address
    if first.is_multicast or (net.num_addresses == 1 and first.is_unspecified):
        return "multicast or unspecified"
    if first.is_loopback:
        return "loopback"
    if net.version == 4 and net.num_addresses == 1 and str(first) == "255.255.255.255":
        return "broadcast"
    return None


# Addresses near every boundary the checks draw, and anywhere else.
_V4_EDGES = [0, 1, 0x7EFFFFFF, 0x7F000000, 0x7FFFFFFF, 0xDFFFFFFF, 0xE0000000, 0xEFFFFFFF, 0xF0000000, 0xFFFFFFFF]
_V6_EDGES = [0, 1, 2, 0xFF << 120, (0xFF << 120) - 1, (1 << 128) - 1, 0xFE80 << 112]


@given(
    st.one_of(
        st.tuples(
            st.just(4),
            st.one_of(st.sampled_from(_V4_EDGES), st.integers(0, 2**32 - 1)),
            st.integers(0, 32),
        ),
        st.tuples(st.just(6), st.one_of(st.sampled_from(_V6_EDGES), st.integers(0, 2**128 - 1)), st.integers(0, 128)),
    )
)
@example((6, 1, 128))  # ::1
@example((6, 1, 127))  # ::/127, not loopback
@example((4, 0xFFFFFFFF, 32))  # 255.255.255.255
@example((4, 0xFFFFFFFE, 31))  # a /31 that ends at it
@example((4, 0, 32))  # 0.0.0.0
@example((4, 0, 8))  # 0.0.0.0/8, not a single unspecified address
def test_address_checks_agree_with_the_ipaddress_module(case):
    version, value, prefix = case
    net = (
        ipaddress.ip_network((value, prefix), strict=False)
        if version == 4
        else ipaddress.IPv6Network((value, prefix), strict=False)
    )
    message = address_problem(str(net)) or ""
    expected = _refusal(net)
    assert (expected in message) if expected else ("not a sensor" not in message), (str(net), message)


def test_the_ascii_shortcut_skips_only_text_every_character_check_passes():
    """text_problem returns early for printable ASCII: no such character is a control, format or other
    refused category, or whitespace other than the space."""
    printable = [chr(c) for c in range(128) if chr(c).isprintable()]
    assert len(printable) == 95
    for ch in printable:
        assert unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
        assert not ch.isspace() or ch == " "
    assert text_problem("Pump 7 (hall B)", what="name", max_len=64, required=True) is None
    assert "quotes" in (text_problem("Pump 'B'", what="name", max_len=64, required=True) or "")
