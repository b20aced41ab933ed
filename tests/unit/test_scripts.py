"""The shell scripts sensorproxy runs on servers, as rendered, pass shellcheck (POSIX sh): the probe,
the lock, the installs, every shape of the transaction, the backup read and the offline kit's apply.sh."""

from __future__ import annotations

import io
import shlex
import subprocess
import zipfile

import pytest

from core import kit
from core.model import ParentProxy, Sensor
from core.remote import outbound, server, shell
from core.secret_kind import Kind
from tests.conftest import ROOT, make_project, require_tool

# SC2174: `mkdir -p -m 0700 /run/sensorproxy` gives the mode to the last directory only; /run exists,
# and the last one is the only one made. Nothing else is excluded.
EXCLUDED = "SC2174"
WRITE = server.Write("/etc/squid/conf.d/sensorproxy.conf", "acl x src 10.0.0.1\n", 0o640, "proxy")
LOGIN = server.Login("/usr/lib/squid/basic_ncsa_auth", "/etc/squid/sensorproxy.passwd", "sensors", "p a$s'w")


def transaction(**changes: object) -> str:
    shape: dict[str, object] = {
        "conf_dir": "/etc/squid", "squid_conf": "/etc/squid/squid.conf", "backup_set": "20261202T000000Z",
        "writes": [WRITE, server.Write("/etc/squid/old.conf", None)], "enable": True, "activate": True,
        "port": 3128, "old_port": 3128, "login": LOGIN,
    }  # fmt: skip
    return server.transaction(**{**shape, **changes})  # type: ignore[arg-type]


def kit_apply_sh() -> str:
    data = kit.build(make_project(Sensor("S", "10.0.0.1")), {}, made="2026-12-02 00:00")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("sensorproxy-kit/apply.sh").decode() + z.read("sensorproxy-kit/transaction.sh").decode()


SCRIPTS = {
    "probe": lambda: shell.render("probe.sh"),
    "lock and probe": lambda: shlex.split(server.lock_and_probe("me@laptop (pid 1)"))[2],
    "install": server.install,
    "install from a bundle": lambda: server.install_bundle([("ab" * 32, "Packages"), ("cd" * 32, "squid_6.deb")]),
    "transaction": transaction,
    "transaction, files only": lambda: transaction(enable=False, activate=False, login=None),
    "transaction, enable only": lambda: transaction(writes=[], activate=False, login=None),
    "transaction for the kit": lambda: transaction(backup_set=None, old_port=None, login=None),
    "read a backup": lambda: shell.render("read_backup.sh"),
    "read a log": lambda: shell.render("read_log.sh"),
    "read a file": lambda: shell.render("read_file.sh"),
    "the kit's apply.sh": kit_apply_sh,
    "the way-out check": lambda: outbound.script(
        make_project(Sensor("S", "10.0.0.1"), parent=ParentProxy("up.example", 8080, "plant")),
        ("hub.azure-devices.net",),
        {Kind.PARENT: "p"},
    ),
}


def test_every_script_file_is_checked():
    """Each file under core/remote/sh is checked here, itself or inside another (tests/packaging/test_wheel.py
    proves the wheel ships them)."""
    files = {p.name for p in (ROOT / "core" / "remote" / "sh").glob("*.sh")}
    checked = "\n".join(make() for make in SCRIPTS.values())
    last_lines = {name: [line for line in shell.source(name).splitlines() if "@" not in line][-1] for name in files}
    assert files == {name for name, line in last_lines.items() if line in checked}


def test_a_name_nothing_fills_stops_the_rendering():
    with pytest.raises(shell.TemplateError, match="nothing fills @FILES@"):
        shell.render("install_bundle.sh")


def test_values_put_in_are_not_read_again_as_names():
    text = shell.render("kit_apply.sh", SITE="@RUN_DIR@ site", MADE="now", PORT="3128", CONF_DIR="/etc/squid")
    assert "kit for @RUN_DIR@ site, made now" in text


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_each_server_script_passes_shellcheck(name, tmp_path):
    shellcheck = require_tool("shellcheck")
    text = SCRIPTS[name]()
    shell_name = "bash" if "# shellcheck shell=bash" in text else "sh"  # the check runs in bash, the rest in sh
    script = tmp_path / "script.sh"
    script.write_text(f"#!/bin/{shell_name}\n" + text)
    checked = subprocess.run(
        [shellcheck, f"--shell={shell_name}", "--severity=warning", f"--exclude={EXCLUDED}", "--format=gcc",
         str(script)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
