"""Every rendered variant, written into a copy of a stock config, passes the real `squid -k parse`."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from core import squid
from tests.squidparse import parse, server_dir, server_view, write_rendered
from tests.unit.test_squid_readback import _valid, projects
from tests.unit.test_squid_render import BLOCK_VARIANTS, OLD, VARIANTS

pytestmark = pytest.mark.squid


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_dropin_variant_parses(variant, squid_bin, tmp_path):
    layout = server_dir(tmp_path)
    result = write_rendered(VARIANTS[variant], layout, squid_bin)
    assert result.returncode == 0, result.output
    assert result.problems() == []
    assert f"Processing Configuration File: {layout.dropin}" in result.output


@pytest.mark.parametrize("variant", BLOCK_VARIANTS)
def test_block_variant_parses(variant, squid_bin, tmp_path):
    layout = server_dir(tmp_path, OLD)
    result = write_rendered(VARIANTS[variant], layout, squid_bin)
    assert result.returncode == 0, result.output
    assert result.problems() == []
    assert f"Processing: http_access allow {squid.ACL_SENSORS}" in result.output or not any(
        s.enabled for s in VARIANTS[variant].sensors
    )


def test_the_parse_check_catches_a_broken_config(squid_bin, tmp_path):
    """The check above can fail: a bad address that slipped through would be FATAL."""
    layout = server_dir(tmp_path)
    Path(layout.dropin).write_text("acl sensorproxy_sensors src 10.0.0.300\n")
    result = parse(layout, squid_bin)
    assert result.returncode != 0
    assert result.problems()


def _addresses_squid_reads(squid_bin: str, tmp_path: Path, sensor_list: str) -> list[str]:
    layout = server_dir(tmp_path)
    Path(layout.dropin).write_text(f'acl probe src "{layout.sensors_file}"\nhttp_access deny probe\n')
    Path(layout.sensors_file).write_text(sensor_list)
    debug = subprocess.run(
        [squid_bin, "-X", "-k", "parse", "-f", layout.squid_conf], capture_output=True, text=True, check=False
    )
    assert debug.returncode == 0, debug.stderr[-2000:]
    # 10.77/16 for sensors, 10.99/16 for what must not be read: the stock config names neither.
    return re.findall(r"aclIpParseIpData: (10\.(?:77|99)\.\S+)$", debug.stderr, re.MULTILINE)


def test_squid_reads_a_sensor_line_only_up_to_its_comment(squid_bin, tmp_path):
    """What the list's format rests on: names and notes after the `#` are never read as addresses."""
    lines = "10.77.0.1/32 # sensor A | notes 10.99.0.0/16\n# disabled sensor B | address 10.77.0.2\n10.77.0.3/32\n"
    assert _addresses_squid_reads(squid_bin, tmp_path, lines) == ["10.77.0.1/32", "10.77.0.3/32"]


@pytest.mark.parametrize(("length", "read_as_address"), [(squid.LIST_LINE_BYTES, False), (2047 + 12, True)])
def test_squid_reads_a_long_list_line_in_pieces(squid_bin, tmp_path, length, read_as_address):
    """Why the sensor list's lines have a length limit: past it, a comment's tail becomes an address."""
    head, tail = "10.77.0.1/32 # sensor A | notes ", "10.99.0.0/16"
    line = head + "x" * (length - len(head) - len(tail)) + tail
    assert len(line) == length
    read = _addresses_squid_reads(squid_bin, tmp_path, line + "\n")
    assert read == (["10.77.0.1/32", "10.99.0.0/16"] if read_as_address else ["10.77.0.1/32"])


def test_ten_thousand_sensors_parse(squid_bin, tmp_path):
    from core.model import Sensor

    sensors = tuple(Sensor(f"S{i}", f"10.{i // 250}.{i % 250}.1") for i in range(10_000))
    result = write_rendered(replace(VARIANTS["auth"], sensors=sensors), server_dir(tmp_path), squid_bin)
    assert result.returncode == 0
    assert result.problems() == []


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(projects().filter(_valid))
def test_generated_projects_parse_and_read_back(squid_bin, tmp_path_factory, project):
    layout = server_dir(tmp_path_factory.mktemp("gen"))
    result = write_rendered(project, layout, squid_bin)
    assert result.returncode == 0, result.output
    assert result.problems() == []
    back = squid.read_back(Path(layout.dropin).read_text(), Path(layout.sensors_file).read_text())
    assert back.sensors == server_view(project).sensors
