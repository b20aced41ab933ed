from __future__ import annotations

import ipaddress
import unicodedata
from dataclasses import replace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.model import (
    FIELD_LABELS,
    ParentProxy,
    Problem,
    ProxySettings,
    Sensor,
    SshTarget,
    address_problem,
    check_additions,
    sensor_label,
    text_problem,
    validate,
    validate_sensors,
    wide_range_problem,
)
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
    assert str(problems[0]).startswith(f"{sensor_label(2, name)}, {field}: ")
    assert not {"\n", "\t"} & set(str(problems[0]))


def test_wide_ranges_pass_only_when_allowed_explicitly():
    wide = Sensor("All", "10.0.0.0/8")
    assert problems_of(wide)
    assert problems_of(wide, allow_wide=True) == []
    assert problems_of(Sensor("Everyone", "0.0.0.0/0"), allow_wide=True) == []


def test_names_are_unique_ignoring_case():
    problems = validate_sensors((Sensor("PLC-1", "10.0.0.1"), Sensor("plc-1", "10.0.0.2")))
    assert [(p.row, p.field) for p in problems] == [(2, "name")]
    assert problems[0].message == "'plc-1' is also the name of sensor 1 (PLC-1)"
    assert problems[0].other == 1


def test_duplicate_address_names_the_other_row():
    problems = validate_sensors((Sensor("A", "10.0.0.1"), Sensor("B", "10.0.0.2"), Sensor("C", "10.0.0.1")))
    assert [(p.row, p.field) for p in problems] == [(3, "address")]
    assert problems[0].message == "10.0.0.1 is also the address of sensor 1 (A)"


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
    """Places are named as the window shows them: the form's labels, and a sensor's number and name."""
    assert str(Problem("proxy", "port", "bad")) == "Proxy port: bad"
    assert str(Problem("proxy", "allowlist", "bad")) == "Destinations: bad"
    assert str(Problem("ssh", "host", "bad")) == "Server: bad"
    assert str(Problem("sensors", "address", "bad", 3, "PLC-2")) == "sensor 3 (PLC-2), address: bad"
    assert str(Problem("sensors", "name", "name is empty", 4)) == "sensor 4, name: name is empty"
    assert sensor_label(5, "a\tb") == "sensor 5 (a\\tb)"
    assert sensor_label(6, "P" * 70) == f"sensor 6 ({'P' * 64}…)"


def test_every_field_a_problem_can_name_has_a_label():
    project = make_project(Sensor("A", "10.0.0.1"))
    bad = replace(
        project,
        site="",
        ssh=SshTarget("a b", "", port=0, key_path="\n"),
        proxy=ProxySettings(
            port=0, auth_enabled=True, auth_user="x y", allowlist=("bad domain",), sensor_host="127.0.0.1",
            parent=ParentProxy("not a host", 0, "x y"),
        ),
    )  # fmt: skip
    problems = validate(bad)
    assert len(problems) == 12
    assert all((p.section, p.field) in FIELD_LABELS for p in problems)
    assert not any("." in p.where() or "_" in p.where() for p in problems)


def test_an_address_sensors_cannot_use_is_refused_as_sensor_host():
    for host, kind in (("127.0.0.1", "loopback"), ("::1", "loopback"), ("169.254.1.1", "link-local"),
                       ("fe80::1", "link-local"), ("0.0.0.0", "unspecified")):  # fmt: skip
        problems = validate(make_project(Sensor("A", "10.0.0.1"), sensor_host=host))
        assert [(p.where(), p.message) for p in problems] == [
            ("Address sensors use", f"{host} is a {kind} address: sensors cannot reach the proxy there")
        ]
    assert validate(make_project(Sensor("A", "10.0.0.1"), sensor_host="10.0.0.254")) == []
    # The SSH host may be a tunnel's loopback end: that is fine for SSH.
    assert validate(replace(make_project(Sensor("A", "10.0.0.1")), ssh=SshTarget("127.0.0.1", "root"))) == []


def test_additions_that_clash_are_bad_rows_with_their_lines():
    existing = (Sensor("PLC-1", "10.0.0.1"), Sensor("PLC-2", "10.0.1.5"))
    new = [
        (2, Sensor("plc-1", "10.0.0.9")),  # name of sensor 1
        (3, Sensor("Pump", "10.0.0.1")),  # address of sensor 1
        (4, Sensor("Net", "10.0.1.0/24")),  # holds sensor 2
        (5, Sensor("Good", "10.0.2.1")),
        (6, Sensor("good", "10.0.2.2")),  # name of line 5
        (7, Sensor("Other", "10.0.2.1")),  # address of line 5
    ]
    good, bad = check_additions(existing, new)
    assert good == [Sensor("Good", "10.0.2.1")]
    assert bad == [
        (2, "'plc-1' is also the name of sensor 1 (PLC-1)"),
        (3, "10.0.0.1 is also the address of sensor 1 (PLC-1)"),
        (4, "10.0.1.0/24 holds 10.0.1.5 of sensor 2 (PLC-2)"),
        (6, "'good' is also the name of line 5"),
        (7, "10.0.2.1 is also the address of line 5"),
    ]
    assert validate_sensors(existing + tuple(good)) == []


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


def _span_by_ipaddress(address: str) -> tuple[int, int, int]:
    net = ipaddress.ip_network(address, strict=True)
    return net.version, int(net.network_address), int(net.broadcast_address)


@given(
    st.lists(
        st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007", "256", "", " 1", "١", "1e1"])),
        min_size=1,
        max_size=5,
    ).map(".".join)
    | st.ip_addresses(v=4).map(str)
)
@example("0.0.0.0")
@example("255.255.255.255")
@example("1.2.3.04")
def test_reading_an_ipv4_address_without_ipaddress_agrees_with_it(address):
    """The fast path for plain IPv4 addresses accepts and reads exactly what ipaddress does."""
    from core import model

    model._span.cache_clear()
    try:
        expected: tuple[int, int, int] | None = _span_by_ipaddress(address)
    except ValueError:
        expected = None
    try:
        got: tuple[int, int, int] | None = model._span(address)
    except ValueError:
        got = None
    assert got == expected


@pytest.mark.parametrize("address", ["10.0.0.0/15", "10.0.0.0/16", "10.0.0.1", "fd00::/47", "fd00::/48", "fd00::1"])
def test_wide_ranges_are_told_by_their_prefix(address):
    net = ipaddress.ip_network(address)
    wide = net.prefixlen < (16 if net.version == 4 else 48)  # WIDEST_IPV4_PREFIX, WIDEST_IPV6_PREFIX
    message = wide_range_problem(address)
    assert (message is not None) == wide
    if wide:
        assert f"covers {net.num_addresses:,} addresses" in message
