from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.remote.hostkeys import KnownHosts
from tests.conftest import ROOT, require, require_tool
from tests.lab.lab import Lab

KILLED_RUN = """
import sys, time
from tests.lab.lab import Lab
print(Lab().start().tmp, flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="session")
def killed_run() -> str:
    """A lab run killed once it stood (as a CI timeout or SIGKILL would): its directory. The lab started
    after it must clean up after it."""
    require(os.geteuid() == 0, "root, to build network namespaces")
    with subprocess.Popen([sys.executable, "-c", KILLED_RUN], cwd=ROOT, stdout=subprocess.PIPE, text=True) as run:
        assert run.stdout is not None
        tmp = run.stdout.readline().strip()
        run.kill()
    assert tmp, "the lab to be killed did not start"
    return tmp


@pytest.fixture(scope="session")
def lab(killed_run: str) -> Iterator[Lab]:
    require(os.geteuid() == 0, "root, to build network namespaces")
    for tool in ("ip", "sshd", "squid", "curl", "openssl", "sudo", "ssh-keygen", "apt-get"):
        require_tool(tool)
    running = Lab().start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def known_hosts(tmp_path: Path) -> KnownHosts:
    return KnownHosts(tmp_path / "known_hosts")
