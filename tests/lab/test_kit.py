"""The offline kit, unpacked and run on the lab server the way an engineer would: sudo sh apply.sh."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest

from core import kit, squid
from core.secret_kind import Kind
from tests.lab.lab import Lab
from tests.lab.test_apply import ALLOWED, AUTH, DENIED, codes

pytestmark = pytest.mark.lab


def run_kit(tmp: Path, data: bytes) -> subprocess.CompletedProcess[str]:
    folder = tmp / f"usb-{len(list(tmp.iterdir()))}"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(folder)
    return subprocess.run(
        ["sh", str(folder / "sensorproxy-kit" / "apply.sh")], capture_output=True, text=True, timeout=120, check=False
    )


def test_kit_applies_converges_and_replaces_its_own_rules(lab: Lab, tmp_path: Path):
    project = lab.project("sp-s1", auth_enabled=True, auth_user="kit")
    proc = run_kit(tmp_path, kit.build(project, {Kind.PROXY: "Kit-lab-pass-9"}, made="test"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[changed] validate" in proc.stdout
    assert "done: Squid serves the sensorproxy rules on port 3128" in proc.stdout
    assert codes(lab.curl("sp-s1", credentials="kit:Kit-lab-pass-9")) == ALLOWED
    assert codes(lab.curl("sp-s1")) == AUTH
    assert codes(lab.curl("sp-s2", credentials="kit:Kit-lab-pass-9")) == DENIED
    assert "Kit-lab-pass-9" not in Path(squid.SquidLayout().passwd_file).read_text()

    again = run_kit(tmp_path, kit.build(project, {Kind.PROXY: "Kit-lab-pass-9"}, made="test"))
    assert again.returncode == 0, again.stdout + again.stderr
    assert codes(lab.curl("sp-s1", credentials="kit:Kit-lab-pass-9")) == ALLOWED

    open_project = lab.project("sp-s2", port=3131)
    proc = run_kit(tmp_path, kit.build(open_project, {}, made="test"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not Path(squid.SquidLayout().passwd_file).exists()
    assert codes(lab.curl("sp-s2", port=3131)) == ALLOWED
    assert codes(lab.curl("sp-s1", port=3131)) == DENIED


def test_kit_refuses_a_squid_conf_without_conf_d_and_changes_nothing(lab: Lab, tmp_path: Path):
    conf = Path("/etc/squid/squid.conf")
    original = conf.read_text()
    dropin = Path(squid.SquidLayout().dropin)
    before = dropin.read_bytes() if dropin.exists() else None
    try:
        conf.write_text("\n".join(line for line in original.splitlines() if "conf.d" not in line) + "\n")
        proc = run_kit(tmp_path, kit.build(lab.project("sp-s3"), {}, made="test"))
        assert proc.returncode == 1
        assert "does not include /etc/squid/conf.d" in proc.stderr
        assert (dropin.read_bytes() if dropin.exists() else None) == before
    finally:
        conf.write_text(original)
