"""The proxy password in the form: masked, typed twice when new (it becomes every sensor's password), and
once it is in the keyring never shown back (Change and Forget instead)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from gui import theme


class PasswordField(QWidget):
    """A masked password with "Remember in the system keyring". A stored password is never shown back:
    the field then says so and offers Change and Forget."""

    forgetRequested = Signal()

    def __init__(self, accessible_name: str) -> None:
        super().__init__()
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(accessible_name)
        self.edit.setPlaceholderText("asked when you apply, if left empty")
        # A new password becomes every sensor's: typed twice, since one typo would lock them all out.
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.again.setAccessibleName(f"{accessible_name}, again")
        self.again.setPlaceholderText("type it again")
        self.mismatch = QLabel("The two passwords differ")
        self.mismatch.setStyleSheet(f"color: {theme.color('error').name()}")
        for w in (self.edit, self.again):
            w.textChanged.connect(self._check)
        self.remember = QCheckBox("Remember in the system keyring")
        self.stored_label = QLabel("Stored in the system keyring")
        self.stored_label.setAccessibleName(f"{accessible_name}: stored in the system keyring")
        self.change = QPushButton("Change…")
        self.forget = QPushButton("Forget")
        self.change.clicked.connect(self._edit_stored)
        self.forget.clicked.connect(self.forgetRequested)
        stored_row = QHBoxLayout()
        stored_row.setContentsMargins(0, 0, 0, 0)
        stored_row.addWidget(self.stored_label, 1)
        stored_row.addWidget(self.change)
        stored_row.addWidget(self.forget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.again)
        layout.addWidget(self.mismatch)
        layout.addWidget(self.remember)
        layout.addLayout(stored_row)
        self.set_state(stored=False, secure=True)

    def set_state(self, *, stored: bool, secure: bool, why_not: str = "") -> None:
        self.stored = stored
        editing = not stored
        self.edit.setVisible(editing)
        self.remember.setVisible(editing)
        for w in (self.stored_label, self.change, self.forget):
            w.setVisible(stored)
        self.remember.setEnabled(secure)
        self.remember.setToolTip("" if secure else f"{why_not}; this one is kept in memory until sensorproxy closes")
        if not secure:
            self.remember.setChecked(False)
        if editing and not self.edit.text():
            self.remember.setChecked(secure)
        self._check()

    def _check(self) -> None:
        typing = not self.stored and bool(self.edit.text())
        self.again.setVisible(typing)
        self.mismatch.setVisible(typing and bool(self.again.text()) and self.again.text() != self.edit.text())

    def problem(self) -> str:
        """Why the typed password cannot be used yet ("" when it can, or when none is typed)."""
        if not self.typed() or self.again.text() == self.edit.text():
            return ""
        if not self.again.text():
            return "Type the new proxy password a second time, below the first, before it goes to the server."
        return "The two proxy passwords differ. Type the same password in both fields."

    def _edit_stored(self) -> None:
        self.set_state(stored=False, secure=self.remember.isEnabled())
        self.edit.setFocus()

    def typed(self) -> str:
        return self.edit.text() if self.edit.isVisible() or not self.stored else ""
