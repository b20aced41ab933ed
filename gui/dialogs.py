"""Dialogs: host-key trust, asking for passwords, About, and the procedure in plain words."""

from __future__ import annotations

import html
import sys

import PySide6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from core import __version__, credentials
from core.paths import config_dir
from core.remote.errors import HostKeyChanged, HostKeyUnknown
from core.secret_kind import Kind
from gui import theme


class HostKeyDialog(QDialog):
    """First contact with a server: show its key so the engineer can compare it before trusting it.
    Cancel is the default button; only an explicit click on Trust pins the key."""

    def __init__(self, exc: HostKeyUnknown, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unknown server")
        self.fingerprint = exc.fingerprint
        text = QLabel(
            f"<p><b>{exc.host}:{exc.port}</b> has not been seen before. Compare its host key with the one the "
            "server itself shows before you trust it:</p>"
            f"<p>on the server run <code>ssh-keygen -lf /etc/ssh/ssh_host_{_key_file(exc.key_type)}_key.pub</code></p>"
        )
        text.setWordWrap(True)
        key = QLabel(f"{exc.key_type}\n{exc.fingerprint}")
        key.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        key.setAccessibleName("Host key fingerprint")
        buttons = QDialogButtonBox()
        self.trust = buttons.addButton("Trust this key and connect", QDialogButtonBox.ButtonRole.AcceptRole)
        self.refuse = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.trust.setAutoDefault(False)
        self.refuse.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(key)
        layout.addWidget(buttons)
        self.refuse.setFocus()


def _key_file(key_type: str) -> str:
    return {"ssh-ed25519": "ed25519", "ssh-rsa": "rsa"}.get(key_type, "ecdsa" if "ecdsa" in key_type else "*")


def host_key_changed(parent: QWidget | None, exc: HostKeyChanged) -> None:
    """A blocking warning with no way to accept: the pinned key is never replaced from the app."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("The server's host key has changed")
    box.setText(f"<b>The host key of {exc.host}:{exc.port} has changed. Nothing was sent to the server.</b>")
    box.setInformativeText(
        f"It now shows {exc.key_type} {exc.fingerprint}, but {exc.expected} was trusted before. Someone may be "
        "intercepting the connection. If the server was really reinstalled, remove its line from "
        f"{config_dir() / 'known_hosts'} by hand, then connect again."
    )
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.exec()


class LoginDialog(QDialog):
    """Everything a run still needs, asked in one dialog: an SSH password, then sudo's ("same as the SSH
    password", ticked by default), a key passphrase, and a proxy password typed twice, since it becomes
    the password of every sensor. `refused` says which password the server just refused.
    Remembering in the keyring is offered only when a secure keyring exists."""

    def __init__(
        self,
        asks: dict[Kind, str],  # what to ask for, and its description in words
        *,
        secure: bool,
        refused: str = "",
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Password needed" if len(asks) == 1 else "Passwords needed")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)  # a server name and a user fit a line
        layout = QVBoxLayout(self)
        if refused:
            warning = QLabel(f"<b>{html.escape(refused)}</b>")
            warning.setWordWrap(True)
            warning.setStyleSheet(f"color: {theme.color('error').name()}")
            warning.setAccessibleName("Refused")
            layout.addWidget(warning)
        self.edits: dict[Kind, QLineEdit] = {}
        self.again: QLineEdit | None = None
        self.same: QCheckBox | None = None
        for kind, words in asks.items():
            label = QLabel(f"{words}:")
            label.setWordWrap(True)
            layout.addWidget(label)
            edit = _masked(words)
            edit.textChanged.connect(self._check)
            label.setBuddy(edit)
            self.edits[kind] = edit
            if kind is Kind.SUDO and Kind.SSH in asks:
                self.same = QCheckBox("Same as the SSH password")
                self.same.setChecked(True)
                self.same.toggled.connect(lambda same, e=edit: e.setHidden(same))
                self.same.toggled.connect(self._check)
                edit.hide()
                layout.addWidget(self.same)
            layout.addWidget(edit)
            if kind is Kind.PROXY:  # it becomes the password of every sensor: one typo would lock them out
                self.again = _masked(f"{words}, again")
                self.again.setPlaceholderText("type it again")
                self.again.textChanged.connect(self._check)
                layout.addWidget(self.again)
        self.mismatch = QLabel("The two passwords differ")
        self.mismatch.setStyleSheet(f"color: {theme.color('error').name()}")
        self.mismatch.hide()
        layout.addWidget(self.mismatch)
        self.remember = QCheckBox("Remember in the system keyring")
        self.remember.setEnabled(secure)
        layout.addWidget(self.remember)
        if note:
            hint = QLabel(note)
            hint.setWordWrap(True)
            layout.addWidget(hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        next(iter(self.edits.values())).setFocus()
        self._check()

    def answers(self) -> dict[Kind, str]:
        given = {kind: edit.text() for kind, edit in self.edits.items()}
        if self.same is not None and self.same.isChecked():
            given[Kind.SUDO] = given[Kind.SSH]
        return given

    def _check(self) -> None:
        differ = (
            self.again is not None and bool(self.again.text()) and self.again.text() != self.edits[Kind.PROXY].text()
        )
        complete = all(self.answers().values()) and (self.again is None or (not differ and bool(self.again.text())))
        self.mismatch.setVisible(differ)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(complete)


def _masked(accessible_name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(accessible_name)
    return edit


def about(parent: QWidget) -> None:
    secure = credentials.secure_backend_available()
    QMessageBox.about(
        parent,
        "About sensorproxy",
        f"<h3>sensorproxy {__version__}</h3>"
        "<p>Sets up a Squid forward proxy for Microsoft Defender for IoT sensors, over SSH.</p>"
        f"<p><b>Passwords:</b> {credentials.backend_name() if secure else credentials.NO_SECURE_STORE}</p>"
        f"<p><b>Settings and trusted host keys:</b> {config_dir()}</p>"
        f"<p>Python {sys.version.split()[0]}, PySide6 {PySide6.__version__}</p>",
    )


HOW_IT_WORKS = """
<h3>What sensorproxy does</h3>
<p>Defender for IoT sensors below version 22.1 reach Azure only through a proxy when their network has
no direct internet access. sensorproxy turns an Ubuntu or Debian server into that proxy (Squid):</p>
<ol>
<li><b>List the sensors</b> in the table: a name and the IP address (or subnet) each sensor uses.</li>
<li><b>Fill in the proxy form</b>: how to reach the server over SSH, the proxy port (3128), and
optionally a proxy user the sensors log in with.</li>
<li><b>Preview</b> (F5) connects and shows exactly which files would change on the server.</li>
<li><b>Apply</b> (Ctrl+Return) installs Squid if needed, backs up its configuration, writes the rules,
lets Squid check them (<code>squid -k parse</code>), enables and starts or reloads Squid, and checks
that it serves on the port. If anything fails, the previous configuration is put back.</li>
<li><b>On each sensor</b>, under System settings ▸ Basic ▸ Sensor Network Settings: turn on
<i>Enable Proxy</i> and enter the server's address, the port, and the proxy user and password if set.</li>
<li><b>Server status</b> (F6) shows which sensors the server allows.</li>
</ol>
<p>Only listed sensors may use the proxy, by default only for HTTPS to the Azure destinations.
Passwords are kept in the system keyring, never in the project file.</p>
"""


def how_it_works(parent: QWidget) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("How sensorproxy works")
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(HOW_IT_WORKS)
    box.exec()
