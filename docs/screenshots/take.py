"""Screenshots of the window's main states, for the README and for looking at the layout.

Run through `./dev screenshots` (under Xvfb). The states: an empty project; the example with
validation errors; the preview with a diff; a finished apply; Cancel pressed once the server was
changing; the one password dialog of a sudo login; the server status with the State column; and the
preview in dark mode. No server is contacted: the diff is core's real plan against a server whose files
are built here (an older version of the example already applied), the apply replays the step events an
apply against the lab produces, and the status reads an access log written here.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from core import accesslog, azure, credentials, projectfile, squid  # noqa: E402
from core.model import AuthMethod, Project  # noqa: E402
from core.remote import outbound  # noqa: E402
from core.remote.events import NOT_CANCELLED, CancelNote, LogEvent, Status, StepEvent  # noqa: E402
from core.remote.hostkeys import KnownHosts  # noqa: E402
from core.remote.server import RemoteFile, ServerState  # noqa: E402
from core.remote.setup import ServerStatus, managed_rules, plan_apply  # noqa: E402
from core.secret_kind import Kind  # noqa: E402
from gui import theme  # noqa: E402
from gui.bundle_dialog import BundleDialog, Progress  # noqa: E402
from gui.dialogs import LoginDialog  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.project_files import empty_project  # noqa: E402
from gui.sensor_model import ADDRESS, NAME  # noqa: E402

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"
OUT = Path(__file__).resolve().parent


def server_with(project: Project, changed: float = 0.0, now: float = 0.0) -> ServerState:
    """A Debian 12 server on which `project` was applied (at `changed`, by its clock)."""
    layout = squid.SquidLayout()
    rendered = squid.render(project, squid.stock_conf(), layout)
    stock = RemoteFile(squid.stock_conf(), 0o644, "root", "root", changed - 86400 * 30)
    files: dict[str, RemoteFile | None] = {layout.squid_conf: stock}
    for f in rendered.files:
        files[f.path] = RemoteFile(f.content, f.mode, "root", f.group, changed)
    return ServerState(
        "debian", "Debian GNU/Linux 12 (bookworm)", "amd64", 10_000_000, "5.7", True, False, True, True,
        frozenset({3128}), ("20261128T101500.000000Z",), 0, files, now=now,
        ncsa_helper=layout.ncsa_helper, hash_schemes=frozenset({"bcrypt", "sha512"}),
    )  # fmt: skip


def status_of(project: Project) -> ServerStatus:
    """The example's server 25 minutes after an apply, with the sensors' traffic since and before it."""
    now = time.time()
    changed = now - 25 * 60
    sensors = [s.address for s in project.sensors]
    lines = [  # (minutes ago, client, Squid's code, destination)
        (95, sensors[0], "TCP_TUNNEL/200", "old-hub.azure-devices.net:443"),
        (70, "192.168.40.77", "TCP_DENIED/403", "hub.azure-devices.net:443"),
        (64, "192.168.40.78", "TCP_DENIED/403", "hub.azure-devices.net:443"),
        (22, sensors[0], "TCP_TUNNEL/200", "north-plant-hub.azure-devices.net:443"),
        (18, sensors[1], "TCP_DENIED/407", "north-plant-hub.azure-devices.net:443"),
        (9, sensors[2], "NONE_NONE/000", "error:transaction-end-before-headers"),
        (3, sensors[0], "TCP_TUNNEL/200", "north-plant-hub.azure-devices.net:443"),
        (2, "192.168.40.90", "TCP_DENIED/403", "hub.azure-devices.net:443"),
        (1, "192.168.40.90", "TCP_DENIED/403", "hub.azure-devices.net:443"),
    ]
    text = "".join(
        f"{now - m * 60:.3f} 120 {client} {code} 4000 {'CONNECT' if ':443' in url else '-'} {url} "
        f"{'sensors' if code.endswith('200') else '-'} HIER_DIRECT/- -\n"
        for m, client, code, url in lines
    )
    state = server_with(project, changed, now)
    layout = squid.SquidLayout()
    return ServerStatus(
        state, managed_rules(layout, state), None, state.backups, tuple(accesslog.parse(text)), read_at=now
    )


def shoot_dialog(dialog: QWidget, name: str) -> None:
    """A modal dialog as it opens over the window."""

    def grab() -> None:
        dialog.grab().save(str(OUT / f"{name}.png"))
        print(OUT / f"{name}.png")
        dialog.reject()

    QTimer.singleShot(300, grab)
    dialog.exec()


APPLY_EVENTS = [
    StepEvent("connect", Status.UNCHANGED, "root@10.10.0.5"),
    StepEvent("preflight", Status.UNCHANGED, "Debian GNU/Linux 12 (bookworm)"),
    LogEvent("preflight", "Debian GNU/Linux 12 (bookworm) (amd64), Squid 5.7, systemd, running"),
    StepEvent("install", Status.UNCHANGED, "Squid 5.7 is installed"),
    StepEvent("backup", Status.RUNNING, "Back up"),
    CancelNote(NOT_CANCELLED),
    StepEvent("backup", Status.CHANGED, "backup in /var/backups/sensorproxy/20261128T141502.120934Z"),
    StepEvent("write", Status.RUNNING, "Write the configuration"),
    StepEvent("write", Status.CHANGED, "/etc/squid/conf.d/sensorproxy.conf, /etc/squid/sensorproxy-sensors.txt"),
    StepEvent("validate", Status.RUNNING, "Validate (squid -k parse)"),
    StepEvent("validate", Status.CHANGED, "squid -k parse accepted it"),
    StepEvent("enable", Status.UNCHANGED, "already enabled at boot"),
    StepEvent("activate", Status.RUNNING, "Start or reload Squid"),
    StepEvent("activate", Status.CHANGED, "reconfigured Squid (squid -k reconfigure)"),
    StepEvent("verify", Status.RUNNING, "Verify"),
    StepEvent("verify", Status.CHANGED, "Squid serves on port 3128"),
]
CANCEL_AT = APPLY_EVENTS.index(CancelNote(NOT_CANCELLED)) + 1  # Cancel pressed as the change began


def shoot(window: MainWindow, name: str) -> None:
    QApplication.processEvents()
    window.grab().save(str(OUT / f"{name}.png"))
    print(OUT / f"{name}.png")


def way_out() -> outbound.CheckResult:
    """What `check` found at a site whose storage goes through a TLS-inspecting firewall."""

    def cert(subject: str, issuer: str) -> outbound.Cert:
        return outbound.Cert(subject, issuer, "", "")

    hub = outbound.Endpoint("contoso-hub.azure-devices.net", ("20.50.65.82",), 12, "ok", 31, 118, "TLSv1.2",
                            (cert("*.azure-devices.net", "Microsoft Azure RSA TLS Issuing CA 04"),))  # fmt: skip
    blob = outbound.Endpoint("contosostore.blob.core.windows.net", ("20.60.28.4",), 9, "ok", 28, 97, "TLSv1.3",
                             (cert("*.blob.core.windows.net", "Contoso Firewall TLS Inspection CA"),))  # fmt: skip
    bus = outbound.Endpoint("contoso.servicebus.windows.net", ("40.69.75.133",), 11, "timeout", 5003)
    download = outbound.Endpoint("download.microsoft.com", (), 41)
    verdict = (
        "TLSv1.2, *.azure-devices.net, issued by Microsoft Azure RSA TLS Issuing CA 04, root DigiCert Global Root G2"
    )
    hub = replace(hub, ok=True, verdict=verdict)
    download, blob, bus = (outbound.judge(e, azure.AZURE_ROOTS) for e in (download, blob, bus))
    checked = [download, hub, blob, bus]
    return outbound.CheckResult("10.10.0.5", tuple(checked), clock_offset=0.4, seconds=5.2)


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
    window.sensors.table.setCurrentIndex(window.sensors.filter.mapFromSource(window.model.index(1, ADDRESS)))
    shoot(window, "2-validation-errors")

    window.load(project, EXAMPLE)
    older = replace(project, sensors=project.sensors[:3])
    plan = plan_apply(project, server_with(older), squid.SquidLayout(), None)
    window.preview.show_plan("10.10.0.5", plan)
    window.show_tab(window.preview)
    shoot(window, "3-preview-diff")

    window.panel.start("Applying the project to 10.10.0.5")
    window.show_tab(window.panel)
    for event in APPLY_EVENTS[:CANCEL_AT]:
        window.panel.on_event(event)
    window.panel.cancel_refused(NOT_CANCELLED)  # what pressing Cancel now shows, as the lab test proves
    shoot(window, "7-cancel-too-late")
    for event in APPLY_EVENTS[CANCEL_AT:]:
        window.panel.on_event(event)
    window.panel.finish(True, "Applied. Squid on 10.10.0.5 serves the new rules on port 3128. (0.7 s, 3 SSH commands)")
    shoot(window, "4-apply-finished")

    by_password = replace(project, ssh=replace(project.ssh, auth=AuthMethod.PASSWORD, host="10.10.0.5"))
    asks = {kind: credentials.describe(kind, by_password) for kind in (Kind.SSH, Kind.SUDO, Kind.PROXY)}
    shoot_dialog(LoginDialog(asks, secure=True, parent=window), "8-passwords")
    refused = f"sudo refused that password for {project.ssh.user} — try again"
    shoot_dialog(LoginDialog({Kind.SUDO: asks[Kind.SUDO]}, secure=True, refused=refused, parent=window), "8-refused")

    status = status_of(project)
    connections = status.connections(project)
    window.status_view.show_status("10.10.0.5", status, project, connections)
    window.model.set_snapshot(status.snapshot(connections[0]))
    window.show_tab(window.status_view)
    shoot(window, "9-status")

    window.status_view.way_out.show_check(way_out())
    shoot(window, "10-way-out")

    # File ▸ Make offline package bundle…, half-way through its downloads.
    making = BundleDialog(window)
    making.release.setCurrentIndex(making.release.findData("bullseye"))
    making.folder.setText(str(Path.home() / "bundles" / "bullseye"))
    making._busy(True)
    making._progress(Progress(12_300_000, 21_800_000, "pool/main/s/squid/squid_4.13-10+deb11u3_amd64.deb"))
    shoot_dialog(making, "11-bundle")

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
