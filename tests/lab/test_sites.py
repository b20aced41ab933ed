"""Several sites in one command, as a fleet job runs it: each project on its own server (overlay copies
of one trixie root, each in its own namespace), at once with --parallel; a site that fails does not stop
the others, and the exit code says that one did."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.lab.fleet import fleet, site_file, trust
from tests.lab.lab import Lab
from tests.lab.test_apply import ALLOWED, codes
from tests.lab.test_cli import cli

pytestmark = pytest.mark.lab


def site_projects(lab: Lab, tmp: Path, addresses: list[str]) -> list[Path]:
    paths = []
    for n, ip in enumerate(addresses, start=1):
        paths.append(site_file(tmp / f"site{n}.toml", replace(lab.project("sp-s1", "sp-s2"), site=f"Site {n}"), ip))
    return paths


def test_apply_several_sites_at_once_one_failing(lab: Lab, tmp_path: Path):
    with fleet(lab, 3) as addresses:
        paths = site_projects(lab, tmp_path, addresses)
        trusted = trust(lab, addresses[:2])  # not the third's
        applied = cli(tmp_path, "apply", *map(str, paths), "--parallel", "3", "--yes", *trusted)
        assert applied.returncode == 1, applied.stdout + applied.stderr
        lines = applied.stdout.splitlines()
        for path, ip in zip(paths[:2], addresses[:2], strict=True):
            assert any(line.startswith(f"[ok] {path} ({ip}, ") and "applied" in line for line in lines), lines
        failed = next(line for line in lines if line.startswith(f"[FAILED] {paths[2]} ({addresses[2]}, "))
        assert "host key" in failed.lower()
        assert lines[-1] == "3 sites: 2 ok, 1 failed"
        table = lines[lines.index(next(line for line in lines if line.startswith("project "))) :]
        assert [row.split()[2] for row in table[1:4]] == ["ok", "ok", "FAILED"]  # in the order given

        for ip in addresses[:2]:  # what a sensor meets, at each site that succeeded
            assert codes(lab.curl("sp-s1", proxy_ip=ip)) == ALLOWED
        assert codes(lab.curl("sp-s1", proxy_ip=addresses[2])) == (0, 0)  # no proxy there: no answer at all

        status = cli(tmp_path, "status", *map(str, paths[:2]), "--parallel", "2")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("Squid running, port 3128 listening, 2 sensors allowed") == 2
        again = cli(tmp_path, "apply", *map(str, paths[:2]), "--parallel", "2", "--yes")
        assert again.returncode == 0, again.stdout + again.stderr
        assert again.stdout.count("nothing changed") == 2


def test_several_projects_need_a_host_for_each_fingerprint(tmp_path: Path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    used = cli(tmp_path, "plan", str(a), str(b), "--accept-host-key", "SHA256:abc")
    assert used.returncode == 2
    assert "with several projects, say whose key it is: HOST=SHA256:abc" in used.stderr
