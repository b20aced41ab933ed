"""A site handed over to Ansible: `sensorproxy export-ansible` reads lab servers (trixie fleet servers, each
in its own namespace with its own sshd and Squid) and the real `ansible-playbook` runs what it wrote. The
two tools write the same bytes: after either, the other finds nothing to change; the sensors tunnel
through what Ansible set up (curl, with the right and a wrong password); a configuration Squid refuses
puts the previous files back and Squid keeps serving."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from core import projectfile
from core.model import ParentProxy, Sensor
from tests.lab.fleet import fleet, site_file, trust
from tests.lab.lab import HOSTS, Lab, lab_ip
from tests.lab.test_apply import ALLOWED, AUTH, DENIED, codes
from tests.lab.test_cli import cli

pytestmark = pytest.mark.lab

PASSWORD = "Handover-pass-5"
ENV = {"SENSORPROXY_PROXY_PASSWORD": PASSWORD}


@pytest.fixture
def control_dir() -> Iterator[Path]:
    """Where ssh keeps its shared connections: a short path (a socket's name has 108 bytes at most)."""
    path = Path(tempfile.mkdtemp(prefix="spa-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def playbook(folder: Path, control: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(folder.parent),
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_LOCAL_TEMP": str(folder.parent / "ansible-tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_NOCOLOR": "1",
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("ansible-playbook")), "site.yml", *args],
        cwd=folder, capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


def recap(run: subprocess.CompletedProcess[str]) -> dict[str, dict[str, int]]:
    """PLAY RECAP's counts per host."""
    hosts = {}
    for line in run.stdout.split("PLAY RECAP")[-1].splitlines():
        if m := re.match(r"(\S+)\s+:\s+(.*)", line):
            hosts[m[1]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m[2])}
    return hosts


def changed(run: subprocess.CompletedProcess[str]) -> dict[str, int]:
    counts = recap(run)
    assert counts, run.stdout[-3000:]
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in counts.values()), run.stdout[-3000:]
    return {host: c["changed"] for host, c in counts.items()}


def sites(lab: Lab, tmp: Path, addresses: list[str]) -> list[Path]:
    """Site 1: a proxy login, and a sensor whose name Ansible would template if it could. Site 2: no login."""
    first = lab.project("sp-s1", "sp-s2", auth_enabled=True, auth_user="sensors")
    odd = Sensor("{{ 7 * 7 }}", lab_ip(99))  # a lab address nobody uses
    first = replace(first, site="Site 1", sensors=(*first.sensors, odd))
    second = replace(lab.project("sp-s1"), site="Site 2")
    return [site_file(tmp / "site1.toml", first, addresses[0]), site_file(tmp / "site2.toml", second, addresses[1])]


def test_ansible_and_sensorproxy_write_the_same_bytes_both_ways(lab: Lab, tmp_path: Path, control_dir: Path):
    with fleet(lab, 2) as addresses:
        one, two = addresses
        paths = sites(lab, tmp_path, addresses)
        out = tmp_path / "handover"
        exported = cli(tmp_path, "export-ansible", *map(str, paths), str(out), "--parallel", "2",
                       *trust(lab, addresses), env=ENV)  # fmt: skip
        assert exported.returncode == 0, exported.stdout + exported.stderr
        everything = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
        assert PASSWORD not in everything
        assert "sensors:$2b$" in (out / "host_vars" / f"{one}.yml").read_text()  # the hash only

        first = playbook(out, control_dir)
        assert all(n > 0 for n in changed(first).values()), first.stdout[-3000:]
        # What a sensor meets at each site, through the Squid Ansible configured.
        assert codes(lab.curl("sp-s1", proxy_ip=one, credentials=f"sensors:{PASSWORD}")) == ALLOWED
        assert codes(lab.curl("sp-s1", proxy_ip=one, credentials="sensors:wrong")) == AUTH
        assert codes(lab.curl("sp-s1", proxy_ip=one)) == AUTH
        assert codes(lab.curl("sp-s1", proxy_ip=two)) == ALLOWED
        assert codes(lab.curl("sp-s2", proxy_ip=two)) == DENIED

        second = playbook(out, control_dir)
        assert changed(second) == {one: 0, two: 0}, second.stdout[-3000:]

        applied = cli(tmp_path, "apply", *map(str, paths), "--parallel", "2", "--yes", env=ENV)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert applied.stdout.count("nothing changed") == 2, applied.stdout

        # The other way: sensorproxy changes a site, the export is made again, Ansible finds it done.
        grown = projectfile.load(paths[1])
        projectfile.save(replace(grown, sensors=(*grown.sensors, Sensor("Sensor sp-s2", HOSTS["sp-s2"]))), paths[1])
        applied = cli(tmp_path, "apply", str(paths[1]), "--yes", env=ENV)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "applied in" in applied.stdout
        exported = cli(tmp_path, "export-ansible", *map(str, paths), str(out), env=ENV)
        assert exported.returncode == 0, exported.stdout + exported.stderr
        third = playbook(out, control_dir)
        assert changed(third) == {one: 0, two: 0}, third.stdout[-3000:]
        assert codes(lab.curl("sp-s2", proxy_ip=two)) == ALLOWED

        # Ansible's backup sets are sensorproxy's: rollback puts site 1 back as it was before Ansible.
        rolled = cli(tmp_path, "rollback", str(paths[0]), "--yes")
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        assert codes(lab.curl("sp-s1", proxy_ip=one, credentials=f"sensors:{PASSWORD}")) == DENIED


def test_a_configuration_squid_refuses_puts_the_previous_files_back(lab: Lab, tmp_path: Path, control_dir: Path):
    with fleet(lab, 1) as [ip]:
        path = site_file(tmp_path / "site.toml", replace(lab.project("sp-s1"), site="Site"), ip)
        out = tmp_path / "handover"
        exported = cli(tmp_path, "export-ansible", str(path), str(out), *trust(lab, [ip]))
        assert exported.returncode == 0, exported.stdout + exported.stderr
        assert changed(playbook(out, control_dir))[ip] > 0
        assert codes(lab.curl("sp-s1", proxy_ip=ip)) == ALLOWED
        conf = lab.tmp / "fleet" / "1" / "root" / "etc" / "squid"  # the server's files, seen from outside
        before = {p: p.read_bytes() for p in (conf / "conf.d" / "sensorproxy.conf", conf / "sensorproxy.sensors")}

        # Someone edits the export by hand and breaks it: Squid's parse refuses, the files come back.
        host_vars = out / "host_vars" / f"{ip}.yml"
        text = host_vars.read_text()
        host_vars.write_text(text.replace("sensorproxy_sensors src", "sensorproxy_sensors nosuchtype", 1))
        broken = playbook(out, control_dir)
        assert broken.returncode != 0
        assert recap(broken)[ip]["rescued"] == 1, broken.stdout[-3000:]
        assert "Squid accepts the configuration (squid -k parse) failed" in broken.stdout, broken.stdout[-3000:]
        said = next(line for line in broken.stdout.splitlines() if "the previous files are back" in line)
        assert "FATAL: Bungled /etc/squid/conf.d/sensorproxy.conf line 5" in said
        assert {p: p.read_bytes() for p in before} == before
        assert codes(lab.curl("sp-s1", proxy_ip=ip)) == ALLOWED


def test_a_parent_proxy_login_comes_from_ansible_vault_only(lab: Lab, tmp_path: Path, control_dir: Path):
    parent_password = "Parent-vault-8"
    with fleet(lab, 1) as [ip]:
        access_log = lab.start_parent_squid(clients=(ip,), login=("upstream", parent_password))
        try:
            project = lab.project("sp-s1", parent=ParentProxy(HOSTS["sp-parent"], 3128, "upstream"))
            path = site_file(tmp_path / "site.toml", replace(project, site="Behind a parent"), ip)
            out = tmp_path / "handover"
            exported = cli(tmp_path, "export-ansible", str(path), str(out), *trust(lab, [ip]))
            assert exported.returncode == 0, exported.stdout + exported.stderr
            assert all(parent_password not in p.read_text() for p in out.rglob("*") if p.is_file())

            missing = playbook(out, control_dir)
            assert recap(missing)[ip]["failed"] == 1
            assert "give its password as sensorproxy_parent_password" in missing.stdout

            # As the export's README says: the password in a vault file, the vault's password apart.
            (tmp_path / "vault-pass").write_text("vault-secret\n")
            (out / "parent.vault.yml").write_text(f'sensorproxy_parent_password: "{parent_password}"\n')
            vault = subprocess.run(
                [str(Path(sys.executable).with_name("ansible-vault")), "encrypt", "parent.vault.yml",
                 "--vault-password-file", str(tmp_path / "vault-pass")],
                cwd=out, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C.UTF-8"}, check=False,
            )  # fmt: skip
            assert vault.returncode == 0, vault.stderr
            assert parent_password not in (out / "parent.vault.yml").read_text()
            with_vault = ("-e", "@parent.vault.yml", "--vault-password-file", str(tmp_path / "vault-pass"))
            first = playbook(out, control_dir, *with_vault)
            assert changed(first)[ip] > 0
            assert parent_password not in first.stdout + first.stderr
            assert codes(lab.curl("sp-s1", proxy_ip=ip)) == ALLOWED
            assert "CONNECT hub.azure-devices.net:443" in access_log.read_text()  # through the parent, logged in

            env = {"SENSORPROXY_PARENT_PASSWORD": parent_password}
            applied = cli(tmp_path, "apply", str(path), "--yes", env=env)
            assert applied.returncode == 0, applied.stdout + applied.stderr
            assert "nothing changed" in applied.stdout  # the same cache_peer login line, byte for byte
            assert changed(playbook(out, control_dir, *with_vault)) == {ip: 0}
        finally:
            lab.kill("parent-squid")
