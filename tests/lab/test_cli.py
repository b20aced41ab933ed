"""The README's by-hand flow, as real processes: new, import-csv, plan, apply --yes --accept-host-key,
status, rollback, remove — then curl from the sensors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import projectfile
from tests.lab.lab import HOSTS, SERVER_IP, SSH_PORT, SUDO_PASSWORD, SUDO_USER, Lab

pytestmark = pytest.mark.lab


def cli(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp),
        "SENSORPROXY_CONFIG_DIR": str(tmp / "config"),
        "SENSORPROXY_LOG_DIR": str(tmp / "log"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",  # the keyring has its own tests
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_new_import_apply_status_rollback_remove(lab: Lab, tmp_path: Path):
    project = tmp_path / "lab.toml"
    csv = tmp_path / "sensors.csv"
    csv.write_text(f"name;address\nLine 1;{HOSTS['sp-s1']}\nLine 2;{HOSTS['sp-s2']}\n")
    fp = lab.fingerprint(lab.tmp / "host_ed25519.pub")
    ssh = f"{SUDO_USER}@{SERVER_IP}:{SSH_PORT}"
    env = {"SENSORPROXY_SUDO_PASSWORD": SUDO_PASSWORD, "SENSORPROXY_PROXY_PASSWORD": "Cli-pass-7"}

    assert (
        cli(
            tmp_path,
            "new",
            str(project),
            "--site",
            "Lab",
            "--ssh",
            ssh,
            "--key",
            str(lab.client_key),
            "--sudo",
        ).returncode
        == 0
    )
    assert cli(tmp_path, "import-csv", str(project), str(csv)).returncode == 0
    text = (
        project.read_text()
        .replace("auth_enabled = false", "auth_enabled = true")
        .replace('auth_user = ""', 'auth_user = "sensors"')
    )
    project.write_text(text)
    assert projectfile.load(project).proxy.auth_enabled

    unknown = cli(tmp_path, "plan", str(project), env=env)
    assert unknown.returncode == 1
    assert fp in unknown.stderr
    assert "not a known server" in unknown.stderr

    dropin = Path("/etc/squid/conf.d/sensorproxy.conf")
    before = dropin.read_text() if dropin.exists() else None
    plan = cli(tmp_path, "plan", str(project), "--accept-host-key", fp, env=env)
    assert plan.returncode == 0, plan.stderr
    assert f"\n+{HOSTS['sp-s2']}/32 # sensor " in plan.stdout
    assert "contents hidden" in plan.stdout
    assert "check mode: nothing on the server was changed" in plan.stdout
    after = dropin.read_text() if dropin.exists() else None
    assert after == before

    applied = cli(tmp_path, "apply", str(project), "--yes", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "[changed] Verify" in applied.stdout
    assert "Cli-pass-7" not in applied.stdout + applied.stderr
    assert SUDO_PASSWORD not in applied.stdout + applied.stderr
    assert lab.curl("sp-s1", credentials="sensors:Cli-pass-7")[:2] == (200, 200)
    assert lab.curl("sp-s2", credentials="sensors:Cli-pass-7")[:2] == (200, 200)
    assert lab.curl("sp-s3", credentials="sensors:Cli-pass-7")[:2] == (403, 0)

    again = cli(tmp_path, "apply", str(project), "--yes", env=env)
    assert again.returncode == 0
    assert "nothing changed" in again.stdout

    status = cli(tmp_path, "status", str(project), env=env)
    assert status.returncode == 0, status.stderr
    assert "2 allowed by the server" in status.stdout
    assert "Line 2" in status.stdout
    assert "listening" in status.stdout

    missing = cli(tmp_path, "apply", str(project), "--yes", env={"SENSORPROXY_SUDO_PASSWORD": SUDO_PASSWORD})
    assert missing.returncode == 1
    assert "SENSORPROXY_PROXY_PASSWORD" in missing.stderr

    no_terminal = cli(tmp_path, "remove", str(project), env=env)
    assert no_terminal.returncode == 2
    assert "there is no terminal to ask on: pass --yes" in no_terminal.stderr
    assert lab.curl("sp-s1", credentials="sensors:Cli-pass-7")[:2] == (200, 200)  # nothing was removed
    assert cli(tmp_path, "remove", str(project), "--yes", env=env).returncode == 0
    assert lab.curl("sp-s1", credentials="sensors:Cli-pass-7")[:2] == (403, 0)
    assert cli(tmp_path, "rollback", str(project), "--yes", env=env).returncode == 0
    assert lab.curl("sp-s1", credentials="sensors:Cli-pass-7")[:2] == (200, 200)

    # The log has each command, its steps and the server's answers, and neither password.
    log = (tmp_path / "log" / "sensorproxy.log").read_text()
    assert f"INFO sensorproxy apply {project}" in log
    assert "INFO [verify] changed: Squid serves on port 3128; its helper accepts the proxy login" in log
    assert "WARNING The server refused" not in log
    assert "Cli-pass-7" not in log
    assert SUDO_PASSWORD not in log
