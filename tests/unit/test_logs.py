"""The log: a run's steps and the server's answers go to it on their way to the front end; --verbose
prints the same lines."""

from __future__ import annotations

from core import logs
from core.remote.events import LogEvent, Status, StepEvent
from tests.conftest import ROOT


def test_a_runs_steps_and_answers_go_to_the_log_and_on(private_log):
    path = logs.start()
    assert path == private_log
    seen: list = []
    emit = logs.logged(seen.append)
    emit(StepEvent("write", Status.CHANGED, "/etc/squid/conf.d/sensorproxy.conf"))
    emit(LogEvent("verify", "Squid serves on port 3128"))
    assert [type(e) for e in seen] == [StepEvent, LogEvent]  # handed on, unchanged
    text = path.read_text()
    assert "INFO [write] changed: /etc/squid/conf.d/sensorproxy.conf\n" in text
    assert "INFO [verify] Squid serves on port 3128\n" in text
    assert logs.start() == path
    assert len(logs.log.handlers) == 1  # started twice, written once


def test_the_command_line_logs_each_command_and_verbose_prints_it(private_log, capsys):
    from cli.main import main

    example = ROOT / "resources" / "example" / "north-plant.toml"
    assert main(["--verbose", "validate", str(example)]) == 0
    assert f"sensorproxy validate {example}" in capsys.readouterr().err
    assert f"INFO sensorproxy validate {example}" in private_log.read_text()
