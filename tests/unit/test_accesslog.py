"""Squid's access log (native format) read back per sensor; lines as Squid 5.7 writes them."""

from __future__ import annotations

import pytest

from core import accesslog
from core.accesslog import AUTH_FAILED, DENIED, ESTABLISHED
from core.model import Sensor

LOG = """\
1764338400.100    118 172.30.77.11 TCP_TUNNEL/200 4321 CONNECT hub.azure-devices.net:443 - HIER_DIRECT/172.30.77.100 -
1764338401.200      0 172.30.77.12 TCP_DENIED/407 4120 CONNECT hub.azure-devices.net:443 - HIER_NONE/- text/html
1764338402.300      0 172.30.77.13 TCP_DENIED/403 3902 CONNECT hub.azure-devices.net:443 - HIER_NONE/- text/html
this line is not from squid
1764338403.400      0 172.30.77.11 TCP_DENIED/403 3902 CONNECT blocked.example.net:443 sensors HIER_NONE/- text/html
1764338404.500    230 10.20.1.7 TCP_TUNNEL/200 9000 CONNECT x.blob.core.windows.net:443 sensors HIER_DIRECT/1.2.3.4 -
1764338405.600      1 fd00::9 NONE_NONE/000 0 GET http://example.net/ - HIER_NONE/- -
"""
SENSORS = (
    Sensor("Boiler", "172.30.77.11"),
    Sensor("Packaging", "172.30.77.12"),
    Sensor("Cell 3", "10.20.1.0/24"),
    Sensor("Quiet", "172.30.77.20"),
    Sensor("Off", "172.30.77.13", enabled=False),
)


def test_parse_reads_squid_native_lines_and_skips_the_rest():
    entries = accesslog.parse(LOG)
    assert len(entries) == 6
    first = entries[0]
    assert (first.client, first.action, first.code, first.method, first.url) == (
        "172.30.77.11", "TCP_TUNNEL", 200, "CONNECT", "hub.azure-devices.net:443",
    )  # fmt: skip
    assert entries[3].user == "sensors"
    assert [e.result for e in entries] == [
        ESTABLISHED, AUTH_FAILED, DENIED, DENIED, ESTABLISHED, "connected to the port but sent no request",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("TCP_TUNNEL_ABORTED/200 0 CONNECT", "tunnel established; the connection was cut"),
        ("NONE_NONE/400 0 NONE", "sent a request the proxy could not read"),
        ("TCP_MISS/503 0 CONNECT", "the proxy could not reach the destination"),
        ("TCP_MISS/200 0 GET", "plain GET request passed (not a tunnel)"),
        ("TCP_WEIRD/418 0 GET", "TCP_WEIRD/418"),  # an unknown code is shown as Squid wrote it
    ],
)
def test_result_codes_are_said_in_words(field, words):
    (entry,) = accesslog.parse(f"1764338400.1 1 172.30.77.11 {field} x - HIER_NONE/- -")
    assert entry.result == words


SINCE = 1764338402.5  # the running configuration took effect between the third and fourth lines


def test_lines_before_the_change_are_history_and_a_tunnel_since_it_counts():
    rows, strangers = accesslog.summarize(accesslog.parse(LOG), SENSORS, SINCE)
    by_name = {act.name: act for act in rows}
    assert list(by_name) == ["Boiler", "Packaging", "Cell 3", "Quiet"]
    boiler = by_name["Boiler"]
    # Tunnelled before the change, denied after it: the tunnel is history, the denial is the state.
    assert (boiler.tunnel, boiler.latest.result, boiler.count) == (None, DENIED, 1)
    assert (boiler.before.result, boiler.before.time) == (ESTABLISHED, 1764338400.1)
    assert boiler.current.url == "blocked.example.net:443"
    packaging = by_name["Packaging"]
    assert (packaging.current, packaging.before.result, packaging.count) == (None, AUTH_FAILED, 0)
    assert by_name["Cell 3"].tunnel.client == "10.20.1.7"  # it lies in the sensor's subnet
    assert (by_name["Quiet"].current, by_name["Quiet"].before) == (None, None)
    # A disabled sensor's address counts as unknown: the server does not let it through.
    assert [(a.address, a.count, a.current and a.current.result) for a in strangers] == [
        ("fd00::9", 1, "connected to the port but sent no request"),
        ("172.30.77.13", 0, None),
    ]
    assert strangers[1].before.result == DENIED


def test_a_later_denial_does_not_hide_a_tunnel_since_the_change():
    log = LOG + "1764338406.0 0 10.20.1.7 TCP_DENIED/403 0 CONNECT other.example:443 - HIER_NONE/- -\n"
    rows, _ = accesslog.summarize(accesslog.parse(log), SENSORS, SINCE)
    cell = {a.name: a for a in rows}["Cell 3"]
    assert (cell.latest.result, cell.tunnel.result, cell.current.result) == (DENIED, ESTABLISHED, ESTABLISHED)


def test_without_a_running_configuration_every_line_is_history():
    rows, _ = accesslog.summarize(accesslog.parse(LOG), SENSORS, None)
    assert all(a.current is None for a in rows)
    assert {a.name: a.before.result for a in rows if a.before} == {
        "Boiler": DENIED, "Packaging": AUTH_FAILED, "Cell 3": ESTABLISHED,
    }  # fmt: skip


NOW = 1764338405.0 + 180  # three minutes after the last line


def snapshot(since: float | None, allowed: frozenset[str] | None = None, offset: float = 0.0) -> accesslog.Snapshot:
    rows, _ = accesslog.summarize(accesslog.parse(LOG), SENSORS, since)
    return accesslog.snapshot(rows, allowed, since, offset, "Squid is not running")


def test_the_table_state_carries_its_time_and_keeps_history_out_of_the_state():
    snap = snapshot(SINCE)
    words, tip = snap.state("10.20.1.0/24", now=NOW)
    assert words == f"{ESTABLISHED} {accesslog.clock(1764338404.5)}, 3 min ago"
    assert "x.blob.core.windows.net:443" in tip
    words, tip = snap.state("172.30.77.12", now=NOW)
    assert words == f"not seen since {accesslog.clock(SINCE)}"
    assert f"history, not state): {AUTH_FAILED} at" in tip
    assert snap.state("172.30.77.20")[0].startswith("not seen since")


def test_the_state_is_on_the_workstations_clock_however_far_the_servers_is():
    ahead = snapshot(SINCE, offset=-600)  # the server's clock runs ten minutes ahead
    words, _ = ahead.state("10.20.1.0/24", now=NOW - 600)
    assert words == f"{ESTABLISHED} {accesslog.clock(1764338404.5 - 600)}, 3 min ago"


def test_a_sensor_the_server_does_not_allow_and_a_stopped_squid_say_so():
    snap = snapshot(SINCE, allowed=frozenset({"172.30.77.11"}))
    assert snap.state("10.20.1.0/24")[0] == "not on the server"
    assert snap.state("172.30.77.11")[0].startswith(DENIED)
    words, tip = snapshot(None).state("10.20.1.0/24")
    assert words == "no proxy (Squid is not running)"
    assert f"history, not state): {ESTABLISHED}" in tip


def test_after_a_change_every_line_so_far_is_history():
    changed = snapshot(SINCE).after_change(frozenset({"10.20.1.0/24"}), NOW)
    words, tip = changed.state("10.20.1.0/24", now=NOW)
    assert words == f"not seen since {accesslog.clock(NOW)}"
    assert f"history, not state): {ESTABLISHED}" in tip
    assert changed.state("172.30.77.11")[0] == "not on the server"


@pytest.mark.parametrize(
    ("seconds", "words"), [(5, "just now"), (61, "1 min ago"), (7300, "2 h ago"), (3 * 86400, "3 days ago")]
)
def test_ages(seconds, words):
    assert accesslog.ago(1000.0, now=1000.0 + seconds) == words
