"""IPv6 sensors through the real Squid: a listed one tunnels, an unlisted one is refused, and the access
log names the sensor by its IPv6 address."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.model import Sensor
from core.remote import setup
from tests.lab.lab import HOSTS, SERVER_IP6, Lab, v6
from tests.lab.test_apply import ALLOWED, DENIED, apply, codes
from tests.lab.test_window_truth import log_size, logged

pytestmark = pytest.mark.lab


def test_an_ipv6_sensor_tunnels_and_an_unlisted_one_is_refused(lab: Lab, known_hosts):
    sensor = Sensor("Substation", v6(HOSTS["sp-s1"]))
    project = replace(lab.project(), sensors=(sensor,))
    outcome, _, _ = apply(lab, known_hosts, project)
    assert outcome.changed
    start = log_size()
    assert codes(lab.curl("sp-s1", proxy_ip=SERVER_IP6)) == ALLOWED
    assert codes(lab.curl("sp-s2", proxy_ip=SERVER_IP6)) == DENIED  # not listed
    assert codes(lab.curl("sp-s1")) == DENIED  # the same host over IPv4 is another address: not listed
    logged(start, 3)
    with lab.session(known_hosts) as session:
        rows, _ = setup.status(session).connections(project)
    assert [(a.address, a.tunnel.client) for a in rows if a.tunnel] == [(sensor.address, sensor.address)]
