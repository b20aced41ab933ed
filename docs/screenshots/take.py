"""Screenshots of the window's main states, for the README and for looking at the layout.

Run through `./dev screenshots` (under Xvfb). The states: an empty project; the example with
validation errors; the preview with a diff; a finished apply; and the preview in dark mode. No server
is contacted: the diff is core's real plan against a server whose files are built here (an older
version of the example already applied), and the finished apply replays the step events an apply
against the lab produces.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core import projectfile, squid  # noqa: E402
from core.model import Project  # noqa: E402
from core.remote.events import LogEvent, Status, StepEvent  # noqa: E402
from core.remote.hostkeys import KnownHosts  # noqa: E402
from core.remote.server import RemoteFile, ServerState  # noqa: E402
from core.remote.setup import plan_apply  # noqa: E402
from gui import theme  # noqa: E402
from gui.main_window import MainWindow, empty_project  # noqa: E402
from gui.sensor_model import ADDRESS, NAME  # noqa: E402

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"
OUT = Path(__file__).resolve().parent


def server_with(project: Project) -> ServerState:
    """A Debian 12 server on which `project` was applied."""
    layout = squid.SquidLayout()
    rendered = squid.render(project, squid.stock_conf(), layout)
    files: dict[str, RemoteFile | None] = {layout.squid_conf: RemoteFile(squid.stock_conf(), 0o644, "root", "root")}
    for f in rendered.files:
        files[f.path] = RemoteFile(f.content, f.mode, "root", f.group)
    return ServerState(
        "debian", "Debian GNU/Linux 12 (bookworm)", "amd64", 10_000_000, "5.7", True, False, True, True,
        frozenset({3128}), ("20261128T101500.000000Z",), 0, files,
    )  # fmt: skip


APPLY_EVENTS = [
    StepEvent("connect", Status.UNCHANGED, "root@10.10.0.5"),
    StepEvent("preflight", Status.UNCHANGED, "Debian GNU/Linux 12 (bookworm)"),
    LogEvent("preflight", "Debian GNU/Linux 12 (bookworm) (amd64), Squid 5.7, systemd, running"),
    StepEvent("install", Status.UNCHANGED, "Squid 5.7 is installed"),
    StepEvent("backup", Status.CHANGED, ""),
    LogEvent("backup", "2 files saved to /var/backups/sensorproxy/20261128T141502.120934Z"),
    StepEvent("write", Status.CHANGED, ""),
    StepEvent("validate", Status.CHANGED, ""),
    LogEvent("validate", "squid -k parse: no errors"),
    StepEvent("enable", Status.UNCHANGED, "already enabled at boot"),
    StepEvent("activate", Status.CHANGED, ""),
    LogEvent("activate", "squid -k reconfigure"),
    StepEvent("verify", Status.CHANGED, ""),
    LogEvent("verify", "Accepting HTTP Socket connections at conn2 local=[::]:3128"),
]


def shoot(window: MainWindow, name: str) -> None:
    QApplication.processEvents()
    window.grab().save(str(OUT / f"{name}.png"))
    print(OUT / f"{name}.png")


def main() -> None:
    app = QApplication(sys.argv[:1])
    app.setApplicationName("sensorproxy")
    theme.apply(app)
    scratch = Path(tempfile.mkdtemp(prefix="sensorproxy-screenshots."))  # settings and host keys: not kept
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    known = KnownHosts(scratch / "known_hosts")
    project = projectfile.load(EXAMPLE)

    window = MainWindow(empty_project(), None, settings=settings, known_hosts=known)
    window.resize(1280, 760)
    window.show()
    shoot(window, "1-empty")

    window.load(project, EXAMPLE)
    window.model.setData(window.model.index(1, ADDRESS), "192.168.40.300")
    window.model.setData(window.model.index(3, NAME), window.model.sensors()[0].name)
    window.form.auth_user.setText("sensor user")
    window.refresh()
    window.table.setCurrentIndex(window.filter.mapFromSource(window.model.index(1, ADDRESS)))
    shoot(window, "2-validation-errors")

    window.load(project, EXAMPLE)
    older = replace(project, sensors=project.sensors[:3])
    plan = plan_apply(project, server_with(older), squid.SquidLayout(), None)
    window.preview.show_plan("10.10.0.5", plan)
    window.show_tab(window.preview)
    shoot(window, "3-preview-diff")

    window.panel.start("Applying the project to 10.10.0.5")
    for event in APPLY_EVENTS:
        window.panel.on_event(event)
    window.panel.finish(True, "Applied. Squid on 10.10.0.5 serves the new rules on port 3128. (0.7 s, 3 SSH commands)")
    window.show_tab(window.panel)
    shoot(window, "4-apply-finished")

    os.environ[theme.THEME_ENV] = "dark"
    theme.apply(app)
    window.show_tab(window.preview)
    shoot(window, "5-dark-preview")

    # The form at the smallest and a large window size, in both schemes: nothing cut off or unreadable.
    window.form.auth.setCurrentIndex(window.form.auth.findText("Password"))
    window.form.sudo.setFocus()
    window.tabs.setCurrentIndex(0)
    for scheme in ("light", "dark"):
        os.environ[theme.THEME_ENV] = scheme
        theme.apply(app)
        for width, height in ((1024, 700), (1400, 900)):
            window.resize(width, height)
            shoot(window, f"6-form-{scheme}-{width}x{height}")
    window._form_dirty = False
    window.undo.setClean()
    window.close()
    settings.sync()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
