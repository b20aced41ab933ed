"""The proxy form: site, SSH target and Squid settings, with each problem shown under its field.

`project(base)` returns `base` with the form's values; `show_problems` places core's problems. The
proxy user's password is not part of the project: it is typed here, or held in the keyring.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.model import DEFAULT_ALLOWLIST, WIDE_RANGES_CONTROL, AuthMethod, ParentProxy, Problem, Project, SshTarget
from gui import theme
from gui.password_field import PasswordField

AUTH_LABELS = {
    AuthMethod.KEY: "Key file",
    AuthMethod.AGENT: "SSH agent",
    AuthMethod.PASSWORD: "Password",
}


# Where the login's secret comes from, said under "Log in with".
AUTH_HINTS = {
    AuthMethod.KEY: "The key file below; its passphrase is asked for when the key has one.",
    AuthMethod.AGENT: "A key held by your SSH agent (ssh-agent, Pageant).",
    AuthMethod.PASSWORD: "The SSH user's password: asked for once the server answers, kept in the system keyring if "
    "you tick Remember there.",
}


class FieldError(QLabel):
    """A problem line under one field; hidden when the field is fine."""

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.setStyleSheet(f"color: {theme.color('error').name()}")
        self.setVisible(bool(text))


class ProxyForm(QWidget):
    changed = Signal()

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.errors: dict[str, FieldError] = {}
        self.site = QLineEdit()
        self.host = QLineEdit()
        self.host.setPlaceholderText("address or name of the proxy server")
        self.ssh_port = _spin()
        self.user = QLineEdit()
        self.auth = QComboBox()
        for method, label in AUTH_LABELS.items():
            self.auth.addItem(label, method.value)
        self.key_path = QLineEdit()
        self.key_path.setPlaceholderText("~/.ssh/id_ed25519")
        browse = QToolButton()
        browse.setText("…")
        browse.setAccessibleName("Choose the key file")
        browse.clicked.connect(self._pick_key)
        self.key_row = _row(self.key_path, browse)
        self.auth_hint = QLabel()
        self.auth_hint.setWordWrap(True)
        self.sudo = QCheckBox("Use sudo on the server (the user is not root)")
        self.port = _spin()
        self.sensor_host = QLineEdit()
        self.sensor_host.setPlaceholderText("same as the server")
        self.sensor_host.setToolTip("The proxy's address as the sensors reach it, if not the SSH address")
        self.auth_enabled = QCheckBox("Sensors log in to the proxy")
        self.auth_user = QLineEdit()
        self.password = PasswordField("Proxy password")
        self.connect_only = QCheckBox("Only HTTPS tunnels (CONNECT to port 443)")
        self.allow_wide = QCheckBox(WIDE_RANGES_CONTROL)
        self.allow_wide.setToolTip(
            "Sensor subnets wider than /16 (IPv4) or /48 (IPv6) let every device in them use the proxy"
        )
        self.allowlist_enabled = QCheckBox("Only these destinations")
        self.allowlist = QPlainTextEdit()
        self.allowlist.setTabChangesFocus(True)
        self.allowlist.setPlaceholderText("one per line; .example.net covers every subdomain")
        # Six lines: the four Azure defaults and two more in view without scrolling.
        lines = self.allowlist.fontMetrics().lineSpacing() * 6 + 2 * self.allowlist.document().documentMargin()
        self.allowlist.setFixedHeight(int(lines) + 2 * self.allowlist.frameWidth() + 2)
        defaults = QPushButton("Azure defaults")
        defaults.setToolTip("Reset to the destinations Defender for IoT sensors need")
        defaults.clicked.connect(lambda: self.allowlist.setPlainText("\n".join(DEFAULT_ALLOWLIST)))
        self.import_list = QPushButton("Import endpoint list…")
        self.import_list.setToolTip(
            "Add the host names of a site's endpoint list (one per line, or a JSON list), from Defender for IoT's "
            "Download endpoint details"
        )
        self.import_list.clicked.connect(self._import_endpoint_list)
        self.endpoints = QPlainTextEdit()
        self.endpoints.setTabChangesFocus(True)
        self.endpoints.setPlaceholderText("the site's IoT hub and storage account, one per line")
        self.endpoints.setToolTip("Host names the destinations' wildcards stand for; Check the way out proves them")
        self.endpoints.setFixedHeight(int(lines / 2) + 2 * self.endpoints.frameWidth() + 2)
        self.parent_box = QGroupBox("Forward through an upstream (parent) proxy")
        self.parent_box.setCheckable(True)
        self.parent_host = QLineEdit()
        self.parent_port = _spin()
        self.parent_user = QLineEdit()
        self.parent_user.setPlaceholderText("none")

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        server = QGroupBox("Proxy server (SSH)")
        server_form = QFormLayout(server)
        self._add(form, "Site", self.site, "site.name")
        self._add(server_form, "Server", self.host, "ssh.host")
        self._add(server_form, "SSH port", self.ssh_port, "ssh.port")
        self._add(server_form, "SSH user", self.user, "ssh.user")
        self._add(server_form, "Log in with", _column(self.auth, self.auth_hint), None, focus=self.auth)
        self._add(server_form, "Key file", self.key_row, "ssh.key_path", focus=self.key_path)
        self._add(server_form, "", self.sudo, None)
        squid_box = QGroupBox("Squid")
        squid_form = QFormLayout(squid_box)
        self._add(squid_form, "Proxy port", self.port, "proxy.port")
        self._add(squid_form, "Address sensors use", self.sensor_host, "proxy.sensor_host")
        self._add(squid_form, "", self.auth_enabled, None)
        self._add(squid_form, "Proxy user", self.auth_user, "proxy.auth_user")
        self._add(squid_form, "Password", self.password, None, focus=self.password.edit)
        self._add(squid_form, "", self.connect_only, None)
        self._add(squid_form, "", self.allow_wide, None)
        self._add(squid_form, "", self.allowlist_enabled, None)
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(defaults)
        row.addWidget(self.import_list)
        row.addStretch(1)
        self._add(squid_form, "Destinations", _column(self.allowlist, buttons), "proxy.allowlist", self.allowlist)
        self._add(squid_form, "Azure endpoints", self.endpoints, "proxy.endpoints")
        parent_form = QFormLayout(self.parent_box)
        self._add(parent_form, "Host", self.parent_host, "proxy.parent.host")
        self._add(parent_form, "Port", self.parent_port, "proxy.parent.port")
        self._add(parent_form, "User", self.parent_user, "proxy.parent.user")
        self.other_problems = FieldError()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(server)
        layout.addWidget(squid_box)
        layout.addWidget(self.parent_box)
        layout.addWidget(self.other_problems)
        layout.addStretch(1)

        self.set_project(project)
        line_edits = (
            self.site,
            self.host,
            self.user,
            self.key_path,
            self.sensor_host,
            self.auth_user,
            self.parent_host,
            self.parent_user,
        )
        for line_edit in line_edits:
            line_edit.textChanged.connect(self.changed)
        for spin in (self.ssh_port, self.port, self.parent_port):
            spin.valueChanged.connect(self.changed)
        for box in (self.sudo, self.auth_enabled, self.connect_only, self.allow_wide, self.allowlist_enabled,
                    self.parent_box):  # fmt: skip
            box.toggled.connect(self.changed)
        self.auth.currentIndexChanged.connect(self.changed)
        self.allowlist.textChanged.connect(self.changed)
        self.endpoints.textChanged.connect(self.changed)
        self.changed.connect(self._enable_dependents)

    def _add(
        self, form: QFormLayout, label: str, widget: QWidget, field: str | None, focus: QWidget | None = None
    ) -> None:
        target = focus or widget
        if not target.accessibleName():
            target.setAccessibleName(label or getattr(target, "text", lambda: "")())
        if field is None:
            form.addRow(label, widget)
            return
        error = FieldError()
        self.errors[field] = error
        form.addRow(label, _column(widget, error))

    def _import_endpoint_list(self) -> None:
        """The list's host names added to the destinations (those already let through are skipped)."""
        from pathlib import Path

        from core import endpoint_list

        name, _ = QFileDialog.getOpenFileName(self, "Endpoint list", "", "Endpoint lists (*.txt *.json *.csv);;All (*)")
        if not name:
            return
        try:
            hosts = endpoint_list.parse(Path(name).read_text(encoding="utf-8-sig"), Path(name).name)
        except (OSError, UnicodeDecodeError, endpoint_list.EndpointListError) as exc:
            QMessageBox.warning(self, "The endpoint list cannot be used", str(exc))
            return
        current = tuple(d.strip() for d in self.allowlist.toPlainText().splitlines() if d.strip())
        merged = endpoint_list.merge(current, hosts)
        self.allowlist_enabled.setChecked(True)
        self.allowlist.setPlainText("\n".join(merged.allowlist))
        QMessageBox.information(
            self, "Endpoint list imported", merged.summary()[:1].upper() + merged.summary()[1:] + "."
        )

    def _pick_key(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "SSH private key", self.key_path.text() or "~/.ssh")
        if name:
            self.key_path.setText(name)

    def _enable_dependents(self) -> None:
        self.key_row.setEnabled(self.auth.currentData() == AuthMethod.KEY.value)
        self.auth_hint.setText(AUTH_HINTS[AuthMethod(self.auth.currentData())])
        on = self.auth_enabled.isChecked()
        self.auth_user.setEnabled(on)
        self.password.setEnabled(on)
        self.allowlist.setEnabled(self.allowlist_enabled.isChecked())

    # --- values ---------------------------------------------------------------------------------
    def set_project(self, project: Project) -> None:
        """Fill the fields without reporting a change."""
        blocked = [w.blockSignals(True) for w in (self, *self.findChildren(QWidget))]
        ssh, proxy = project.ssh, project.proxy
        self.site.setText(project.site)
        self.host.setText(ssh.host)
        self.ssh_port.setValue(ssh.port)
        self.user.setText(ssh.user)
        self.auth.setCurrentIndex(self.auth.findData(ssh.auth.value))
        self.key_path.setText(ssh.key_path)
        self.sudo.setChecked(ssh.sudo)
        self.port.setValue(proxy.port)
        self.sensor_host.setText(proxy.sensor_host)
        self.auth_enabled.setChecked(proxy.auth_enabled)
        self.auth_user.setText(proxy.auth_user)
        self.password.edit.clear()
        self.password.again.clear()
        self.connect_only.setChecked(proxy.connect_only)
        self.allow_wide.setChecked(proxy.allow_wide_ranges)
        self.allowlist_enabled.setChecked(proxy.allowlist_enabled)
        self.allowlist.setPlainText("\n".join(proxy.allowlist))
        self.endpoints.setPlainText("\n".join(proxy.endpoints))
        self.parent_box.setChecked(proxy.parent is not None)
        parent = proxy.parent or ParentProxy(host="")
        self.parent_host.setText(parent.host)
        self.parent_port.setValue(parent.port)
        self.parent_user.setText(parent.user)
        for w, was in zip((self, *self.findChildren(QWidget)), blocked, strict=True):
            w.blockSignals(was)
        self._enable_dependents()

    def project(self, base: Project) -> Project:
        ssh = SshTarget(
            host=self.host.text().strip(),
            user=self.user.text().strip(),
            port=self.ssh_port.value(),
            auth=AuthMethod(self.auth.currentData()),
            key_path=self.key_path.text().strip(),
            sudo=self.sudo.isChecked(),
        )
        domains = tuple(d.strip() for d in self.allowlist.toPlainText().splitlines() if d.strip())
        parent = None
        if self.parent_box.isChecked():
            parent = ParentProxy(self.parent_host.text().strip(), self.parent_port.value(), self.parent_user.text())
        proxy = replace(
            base.proxy,
            port=self.port.value(),
            sensor_host=self.sensor_host.text().strip(),
            auth_enabled=self.auth_enabled.isChecked(),
            auth_user=self.auth_user.text().strip(),
            connect_only=self.connect_only.isChecked(),
            allow_wide_ranges=self.allow_wide.isChecked(),
            allowlist_enabled=self.allowlist_enabled.isChecked(),
            allowlist=domains,
            endpoints=tuple(h.strip() for h in self.endpoints.toPlainText().splitlines() if h.strip()),
            parent=parent,
        )
        return replace(base, site=self.site.text().strip(), ssh=ssh, proxy=proxy)

    def show_problems(self, problems: list[Problem]) -> None:
        """Each problem under its field; anything without a field of its own goes at the bottom."""
        by_field: dict[str, list[str]] = {}
        rest = []
        for p in problems:
            key = f"{p.section}.{p.field}"
            if key in self.errors:
                by_field.setdefault(key, []).append(p.message)
            elif p.section != "sensors":
                rest.append(str(p))
        for key, label in self.errors.items():
            label.show_message("\n".join(by_field.get(key, [])))
        self.other_problems.show_message("\n".join(rest))


def _spin() -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(1, 65535)
    return spin


def _row(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        layout.addWidget(w, 1 if isinstance(w, QLineEdit) else 0)
    return box


def _column(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for w in widgets:
        layout.addWidget(w)
    return box
