"""The lab survives being killed: a run stopped by SIGKILL leaves its namespaces, its sshd, its /etc/hosts
lines, its user and sudoers file and its copy of /etc/squid, and the next run removes them (only them)
before it starts, from the record the killed run kept."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from tests.lab.lab import CLOUD_HOSTS, HOSTS_TAG, RECORD, Lab, sh

pytestmark = pytest.mark.lab


def processes_of(directory: str) -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            if directory.encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
    return found


def test_a_killed_lab_run_is_cleaned_up_by_the_next(lab: Lab, killed_run: str):
    assert lab.recovered == killed_run
    assert not Path(killed_run).exists()
    assert processes_of(killed_run) == []  # its sshd is gone
    assert processes_of(str(lab.tmp))  # this run's is not
    hosts = Path("/etc/hosts").read_text()
    assert hosts.count(HOSTS_TAG) == len(CLOUD_HOSTS)  # this run's lines, once: the killed run's are gone
    assert str(lab.tmp) in RECORD.read_text()  # and this run keeps its own record


def test_a_second_lab_refuses_while_one_runs_and_leaves_it_be(lab: Lab):
    second = Lab()
    try:
        with pytest.raises(RuntimeError, match=r"another lab run \(process \d+\) is using this machine"):
            second.start()  # this very run's record: its owner lives
    finally:
        shutil.rmtree(second.tmp, ignore_errors=True)
    assert processes_of(str(lab.tmp))  # the running lab is untouched: its sshd, its record, its network
    assert str(lab.tmp) in RECORD.read_text()
    assert "sp-s1" in sh("ip", "netns", "list").stdout
