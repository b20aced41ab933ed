from __future__ import annotations

import ipaddress
import string
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import squid
from core.model import ParentProxy, Project, ProxySettings, Sensor, SshTarget, validate
from core.squid import stock_conf
from tests.squidparse import read_rendered, server_view
from tests.unit.test_squid_render import BLOCK_VARIANTS, OLD, SECRETS, VARIANTS

STOCK = stock_conf()


CASES = [(v, "dropin") for v in sorted(VARIANTS)] + [(v, "block") for v in BLOCK_VARIANTS]


@pytest.mark.parametrize(("variant", "server"), CASES)
def test_read_back_gives_the_same_project(variant, server):
    project = VARIANTS[variant]
    base = STOCK if server == "dropin" else OLD
    back = read_rendered(squid.render(project, base, secrets=SECRETS))
    expected = server_view(project)
    assert back.sensors == expected.sensors
    assert back.proxy == expected.proxy
    assert back.site == project.site
    assert back.notes == ()


def test_read_back_reports_hand_edits():
    rendered = squid.render(VARIANTS["default"], STOCK)
    rules, sensor_list = rendered.files[0].content, rendered.files[1].content
    rules = rules.replace("cache deny sensorproxy_sensors\n", "") + "http_access allow all\n"
    back = squid.read_back(rules, sensor_list + "10.99.0.1/32\n")
    assert Sensor("unnamed 10.99.0.1", "10.99.0.1") in back.sensors
    assert back.notes == (
        "address without its sensor in the sensor list: 10.99.0.1/32",
        "line not written by sensorproxy: http_access allow all",
        "line missing: cache deny sensorproxy_sensors",
    )


def test_read_back_names_a_missing_sensor_list_and_another_format():
    rules = squid.render(VARIANTS["default"], STOCK).files[0].content
    back = squid.read_back(rules.replace("sensorproxy-format: 3", "sensorproxy-format: 2"), None)
    assert back.sensors == ()
    assert "written by another sensorproxy version (sensorproxy-format: 2); the next apply rewrites it" in back.notes
    assert "the sensor list file is missing, so these rules allow no sensor" in back.notes


def test_read_back_never_repeats_a_parent_password_it_finds():
    rendered = squid.render(VARIANTS["parent"], STOCK, secrets=SECRETS)
    rules = rendered.files[0].content.replace("parent-secret", "edited-secret") + "cache_peer_access x allow all\n"
    back = squid.read_back(rules.replace(" default name=", " name="), rendered.files[1].content)
    assert back.notes
    assert not any("secret" in note for note in back.notes)


def test_read_back_refuses_a_file_it_did_not_write():
    with pytest.raises(squid.SquidConfigError, match="no sensorproxy-managed rules"):
        squid.read_back(STOCK, None)


# --- properties -------------------------------------------------------------------------------

name_chars = st.characters(
    blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
    blacklist_characters="\"'`\\\t",
)
names = (
    st.text(name_chars, min_size=1, max_size=20)
    .map(str.strip)
    .filter(lambda s: s and not any(c.isspace() and c != " " for c in s))
)
hosts_v4 = st.integers(min_value=0, max_value=2**16 - 1).map(
    lambda i: f"10.{40 + i // 65536}.{i // 256 % 256}.{i % 256}"
)
hosts_v6 = st.integers(min_value=1, max_value=2**32).map(lambda i: str(ipaddress.IPv6Address((0xFD << 120) + i)))
label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
domains = st.builds(lambda a, b, dot: ("." if dot else "") + f"{a}.{b}", label, label, st.booleans())


@st.composite
def projects(draw: st.DrawFn) -> Project:
    count = draw(st.integers(min_value=0, max_value=12))
    addresses = draw(st.lists(st.one_of(hosts_v4, hosts_v6), min_size=count, max_size=count, unique=True))
    sensor_names = draw(st.lists(names, min_size=count, max_size=count, unique_by=str.casefold))
    sensors = tuple(
        Sensor(n, a, draw(st.booleans()), draw(st.one_of(st.just(""), names)))
        for n, a in zip(sensor_names, addresses, strict=True)
    )
    allow = draw(st.lists(domains, min_size=1, max_size=4, unique_by=lambda d: d.lstrip(".")))
    auth = draw(st.booleans())
    parent = draw(
        st.one_of(
            st.none(),
            st.builds(
                ParentProxy,
                st.just("upstream.example"),
                st.integers(1, 65535),
                st.sampled_from(["", "plant"]),
            ),
        )
    )
    proxy = ProxySettings(
        port=draw(st.integers(1024, 65535)),
        auth_enabled=auth,
        auth_user="sensors" if auth else "",
        connect_only=draw(st.booleans()),
        allowlist_enabled=draw(st.booleans()),
        allowlist=tuple(allow),
        parent=parent,
    )
    return Project(draw(names), SshTarget("192.0.2.1", "root"), proxy, sensors)


def _valid(p: Project) -> bool:
    return validate(p) == []


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(projects().filter(_valid))
def test_any_valid_project_reads_back_equal(project):
    back = read_rendered(squid.render(project, STOCK, secrets=SECRETS))
    expected = server_view(project)
    assert (back.site, back.proxy, back.sensors, back.notes) == (
        expected.site,
        expected.proxy,
        expected.sensors,
        (),
    )


DIRECTIVE_WORDS = (
    "acl",
    "http_access",
    "cache",
    "http_port",
    "auth_param",
    "cache_peer",
    "cache_peer_access",
    "never_direct",
)


@settings(max_examples=200)
@given(st.text(min_size=1, max_size=40), st.text(max_size=40), st.text(max_size=20))
def test_no_field_value_can_add_a_directive(name, notes, site):
    base = VARIANTS["default"]
    project = replace(base, site=site or "x", sensors=(Sensor(name, "10.0.0.1", True, notes),))
    if validate(project):
        return  # refused input never renders; that refusal is tested in test_model
    text = squid.render(project, STOCK).files[0].content
    directives = [line.split()[0] for line in text.splitlines() if line and not line.startswith("#")]
    expected = squid.render(replace(project, site="x", sensors=(Sensor("n", "10.0.0.1"),)), STOCK)
    assert directives == [
        line.split()[0] for line in expected.files[0].content.splitlines() if line and not line.startswith("#")
    ]
    assert all(word in DIRECTIVE_WORDS for word in directives)
