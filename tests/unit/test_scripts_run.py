"""The server scripts, run for real against a fake server in a temporary directory (tests/fakeserver.py):
apply, rollback and remove through core's own code, every way a change can fail and what the engineer
is told, the install's failures, and the lock's. No root, no network, no lab: any Linux machine."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from core.model import Sensor
from core.remote import setup, shell
from core.remote.errors import CommandFailed, RepositoryUnreachable, ValidationFailed, VerifyFailed
from core.remote.events import Status, StepEvent
from core.remote.server import Login, Write, transaction
from tests.conftest import make_project
from tests.fakeserver import FakeServer, LocalSession

PROJECT = make_project(Sensor("Boiler", "10.0.0.1"), Sensor("Turbine", "10.0.0.2"))


@pytest.fixture
def fake(tmp_path):
    server = FakeServer.make(tmp_path / "server")
    server.start_squid()
    return server


def apply(fake: FakeServer, project=PROJECT, events: list | None = None, **kw) -> setup.Outcome:
    session = LocalSession(fake)
    emit = events.append if events is not None else None
    return setup.apply(project, session, {}, layout=fake.layout, emit=emit, **kw)  # type: ignore[arg-type]


def managed(fake: FakeServer) -> dict[str, str | None]:
    layout = fake.layout
    paths = [layout.squid_conf, layout.dropin, layout.sensors_file, layout.passwd_file]
    return {p: Path(p).read_text() if os.path.exists(p) else None for p in paths}


def steps(events: list) -> list[tuple[str, Status]]:
    return [(e.step, e.status) for e in events if isinstance(e, StepEvent) and e.status is not Status.RUNNING]


def test_apply_writes_validates_enables_and_serves_then_changes_nothing_the_second_time(fake):
    events: list = []
    outcome = apply(fake, events=events)
    assert outcome.changed
    layout = fake.layout
    sensors = fake.read(layout.sensors_file)
    assert "10.0.0.1" in sensors
    assert "10.0.0.2" in sensors
    written = {f.path: f.mode for f in outcome.plan.files if f.after is not None}
    assert {p: stat.S_IMODE(os.stat(p).st_mode) for p in written} == written
    assert steps(events)[-6:] == [
        ("backup", Status.CHANGED), ("write", Status.CHANGED), ("validate", Status.CHANGED),
        ("enable", Status.CHANGED), ("activate", Status.CHANGED), ("verify", Status.CHANGED),
    ]  # fmt: skip
    assert (fake.root / "fake/enabled").exists()
    assert (fake.root / "etc/squid/squid.conf.factory").exists()
    backups = list((fake.root / "var/backups/sensorproxy").iterdir())
    assert [b.name for b in backups] == [outcome.backup_set]
    assert outcome.since is not None  # the script said when the new configuration took effect
    assert not list((fake.root / "run/sensorproxy").glob("stage.*"))  # its staging is cleaned up
    assert not apply(fake).changed


def test_squid_refusing_the_files_puts_the_previous_ones_back(fake):
    apply(fake)
    before = managed(fake)
    broken = replace(PROJECT, sensors=[*PROJECT.sensors, Sensor("BROKEN", "10.0.0.3")])
    with pytest.raises(ValidationFailed, match="Bungled"):
        apply(fake, broken)
    assert managed(fake) == before


def test_squid_not_serving_puts_the_previous_files_back_and_the_previous_configuration_serves_again(fake):
    apply(fake)
    before = managed(fake)
    (fake.root / "fake/taken-ports").write_text("3999\n")
    moved = replace(PROJECT, proxy=replace(PROJECT.proxy, port=3999))
    events: list = []
    with pytest.raises(VerifyFailed, match="Cannot open HTTP Port"):
        apply(fake, moved, events=events)
    assert managed(fake) == before
    said = [e.line for e in events if getattr(e, "step", "") == "verify" and hasattr(e, "line")]
    assert "the previous configuration serves again" in said


def test_rollback_and_remove_read_the_backup_and_take_the_rules_away(fake):
    first = managed(fake)
    apply(fake)
    second = replace(PROJECT, sensors=PROJECT.sensors[:1])
    apply(fake, second)
    assert "10.0.0.2" not in fake.read(fake.layout.sensors_file)
    assert setup.rollback(LocalSession(fake), layout=fake.layout).changed  # type: ignore[arg-type]
    assert "10.0.0.2" in fake.read(fake.layout.sensors_file)
    assert setup.remove(LocalSession(fake), layout=fake.layout).changed  # type: ignore[arg-type]
    assert managed(fake) == first | {fake.layout.squid_conf: managed(fake)[fake.layout.squid_conf]}
    assert not os.path.exists(fake.layout.dropin)


def test_a_run_directory_that_cannot_be_made_is_said_as_such_with_the_scripts_own_words(fake):
    (fake.root / "run/sensorproxy").write_text("not a directory")
    with pytest.raises(CommandFailed) as info:
        apply(fake)
    message = str(info.value)
    assert message.startswith(f"{shell.FAILURES[shell.Exit.RUN_DIR]} failed (exit {int(shell.Exit.RUN_DIR)})")
    assert "cannot make the root-only directory" in message
    assert "being changed by" not in message  # not mistaken for another run holding the lock


def test_a_server_without_its_repository_is_told_to_use_a_bundle_in_one_sentence(tmp_path):
    fake = FakeServer.make(tmp_path / "server", squid_installed=False)
    (fake.root / "fake/no-repository").touch()
    events: list = []
    with pytest.raises(RepositoryUnreachable) as info:
        apply(fake, events=events, dpkg_timeout=1)
    assert str(info.value) == (
        f"the bookworm server {LocalSession(fake).target.host} cannot reach its package repository (the mirror's "
        "name does not resolve): make a bundle with `sensorproxy bundle --release bookworm` and apply with `--bundle`"
    )
    assert ("install", Status.FAILED) in steps(events)
    assert not (fake.root / "fake/apt-install-args").exists()  # it stopped before apt-get install
    assert not os.path.exists(fake.layout.dropin)


def test_an_install_then_the_change_in_one_apply(tmp_path):
    fake = FakeServer.make(tmp_path / "server", squid_installed=False)
    events: list = []
    outcome = apply(fake, events=events, dpkg_timeout=1)
    assert outcome.changed
    assert ("install", Status.CHANGED) in steps(events)
    # only what Squid needs: apt's recommends would bring a mail server onto a bullseye proxy
    assert (fake.root / "fake/apt-install-args").read_text().split()[-4:] == [
        "-y", "-q", "--no-install-recommends", "squid"
    ]  # fmt: skip
    assert (fake.root / "var/log/squid/cache.log").read_text().count("Accepting HTTP Socket") == 1


def test_a_bundle_file_damaged_in_transfer_is_named(tmp_path):
    fake = FakeServer.make(tmp_path / "server", squid_installed=False)
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "Packages").write_text("Package: squid\n")
    (upload / "squid_5.7_amd64.deb").write_bytes(b"damaged")
    listed = [
        (hashlib.sha256((upload / "Packages").read_bytes()).hexdigest(), "Packages"),
        ("0" * 64, "squid_5.7_amd64.deb"),
    ]
    from core.remote.server import install_bundle

    result = LocalSession(fake).script(install_bundle(listed, root=str(fake.root)), str(upload), "1")
    assert result.returncode == shell.Exit.BUNDLE_SUM
    assert "checksum mismatch: squid_5.7_amd64.deb" in result.stdout
    assert not os.path.exists(upload)  # the upload is removed whatever happened


def test_the_kits_transaction_reads_the_previous_port_from_the_files_it_replaces(fake):
    layout = fake.layout
    (fake.root / "fake/taken-ports").write_text("4000\n")
    script = transaction(
        conf_dir=layout.conf_dir, squid_conf=layout.squid_conf, backup_set=None,
        writes=[Write(layout.dropin, "http_port 4000\n")], enable=True, activate=True, port=4000,
        old_port=None, root=layout.root,
    )  # fmt: skip
    result = LocalSession(fake).script(script)
    assert result.returncode == shell.Exit.NOT_SERVING
    lines = [shell.parse_line(line) for line in result.stdout.splitlines()]
    assert shell.LogLine("verify", "the previous configuration serves again") in lines
    assert shell.StepLine("write", "rolled_back", "") in lines
    assert not os.path.exists(layout.dropin)  # it was absent before


def test_only_the_newest_backups_are_kept(fake):
    backups = fake.root / "var/backups/sensorproxy"
    for day in range(1, shell.KEEP_BACKUPS + 3):
        (backups / f"202601{day:02d}T000000Z").mkdir(parents=True)
    outcome = apply(fake)
    kept = sorted(p.name for p in backups.iterdir())
    assert len(kept) == shell.KEEP_BACKUPS
    assert kept[-1] == outcome.backup_set
    assert kept[0] == "20260104T000000Z"  # the three oldest went, with room for the new one


def test_verify_asks_the_helper_about_the_proxy_login_and_the_password_is_in_no_arguments(fake):
    layout = fake.layout
    helper = fake.root / "usr/lib/squid/basic_ncsa_auth"
    helper.parent.mkdir(parents=True)
    helper.write_text(
        '#!/bin/sh\necho "$0 $*" >> "$FAKE_ROOT/fake/helper-argv"\nread -r line\n'
        '[ "$line" = "sensors p%20a%24s%27%25" ] && echo OK || echo "ERR wrong password"\n'
    )
    helper.chmod(0o755)
    said = []
    for password in ("p a$s'%", "wrong"):
        script = transaction(
            conf_dir=layout.conf_dir, squid_conf=layout.squid_conf, backup_set="b", writes=[], enable=False,
            activate=True, port=3128, old_port=3128, root=layout.root,
            login=Login(str(helper), layout.passwd_file, "sensors", password),
        )  # fmt: skip
        result = LocalSession(fake).script(script)
        said.append((result.returncode, [shell.parse_line(line) for line in result.stdout.splitlines()]))
    assert said[0][0] == 0
    assert (
        shell.StepLine("verify", "changed", "Squid serves on port 3128; its helper accepts the proxy login")
        in said[0][1]
    )
    assert said[1][0] == shell.Exit.NOT_SERVING
    assert shell.LogLine("verify", shell.LOGIN_REFUSED) in said[1][1]
    argv = (fake.root / "fake/helper-argv").read_text()
    assert argv == f"{helper} {layout.passwd_file}\n" * 2  # the password went on its stdin only
