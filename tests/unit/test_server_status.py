"""What the server allows against what the project lists: the data behind `status` and the GUI's view."""

from __future__ import annotations

from core import squid
from core.model import Sensor
from core.remote.server import ServerState
from core.remote.setup import SensorPresence, ServerStatus
from tests.conftest import make_project
from tests.squidparse import read_rendered


def status_of(*sensors: Sensor) -> ServerStatus:
    state = ServerState("debian", "Debian 12", "amd64", 1, "5.7", False, False, True, True, frozenset({3130}), (), 0)
    managed = None
    if sensors:
        managed = read_rendered(squid.render(make_project(*sensors, port=3130), squid.stock_conf()))
    return ServerStatus(state, managed, None, ())


def test_compare_marks_sensors_only_on_the_server_and_only_in_the_project():
    server = status_of(Sensor("Old", "10.0.0.1"), Sensor("Both", "10.0.0.2"))
    project = make_project(Sensor("Both here", "10.0.0.2"), Sensor("New", "10.0.0.3"))
    assert server.port == 3130
    assert server.compare(project) == (
        SensorPresence("10.0.0.1", "Old", in_project=False, on_server=True),
        SensorPresence("10.0.0.2", "Both", in_project=True, on_server=True),
        SensorPresence("10.0.0.3", "New", in_project=True, on_server=False),
    )


def test_compare_uses_canonical_addresses_and_ignores_disabled_sensors():
    server = status_of(Sensor("Net", "fd00::/64"))
    project = make_project(Sensor("Net", "FD00:0::/64"), Sensor("Off", "10.0.0.9", enabled=False))
    assert server.compare(project) == (SensorPresence("fd00::/64", "Net", in_project=True, on_server=True),)


def test_a_server_without_rules_has_no_port_and_lists_the_whole_project_as_missing():
    server = status_of()
    assert server.port is None
    assert server.compare(make_project(Sensor("A", "10.0.0.1"))) == (
        SensorPresence("10.0.0.1", "A", in_project=True, on_server=False),
    )
