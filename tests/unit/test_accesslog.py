"""Squid's access log (native format) read back per sensor; lines as Squid 5.7 writes them."""

from __future__ import annotations

from core import accesslog
from core.accesslog import AUTH_FAILED, DENIED, ESTABLISHED, NEVER
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
    assert [e.result for e in entries] == [ESTABLISHED, AUTH_FAILED, DENIED, DENIED, ESTABLISHED, "NONE_NONE/000"]


def test_summary_gives_each_enabled_sensor_its_latest_line_and_lists_unknown_clients():
    rows, strangers = accesslog.summarize(accesslog.parse(LOG), SENSORS)
    by_name = {seen.name: seen for seen in rows}
    assert list(by_name) == ["Boiler", "Packaging", "Cell 3", "Quiet"]
    assert (by_name["Boiler"].result, by_name["Boiler"].destination, by_name["Boiler"].count) == (
        DENIED, "blocked.example.net:443", 2,
    )  # fmt: skip
    assert by_name["Packaging"].result == AUTH_FAILED
    assert by_name["Cell 3"].result == ESTABLISHED  # 10.20.1.7 lies in the sensor's subnet
    assert by_name["Cell 3"].when == "2025-11-28 14:00:04 UTC"
    assert (by_name["Quiet"].result, by_name["Quiet"].when, by_name["Quiet"].count) == (NEVER, "-", 0)
    # A disabled sensor's address counts as unknown: the server does not let it through.
    assert [(s.address, s.result) for s in strangers] == [("fd00::9", "NONE_NONE/000"), ("172.30.77.13", DENIED)]
