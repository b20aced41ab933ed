"""Whether an SSH private key file is encrypted, read from the file itself: a login looks for the key's
passphrase (in the keyring, which may ask to be unlocked) only when the key needs one."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

_OPENSSH_MAGIC = b"openssh-key-v1\0"


def needs_passphrase(path: str) -> bool:
    """True for an encrypted key (OpenSSH, PEM or PKCS#8), and for a file this cannot read or make out:
    then the login itself says what is wrong, or asks."""
    try:
        text = Path(path).expanduser().read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    if "BEGIN OPENSSH PRIVATE KEY" not in text:
        # PEM marks encryption in a header (Proc-Type: 4,ENCRYPTED), PKCS#8 in its label.
        return "ENCRYPTED" in text or "PRIVATE KEY" not in text
    body = "".join(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("-----"))
    try:
        head = base64.b64decode(body[:64])  # magic, then the cipher's name: "none" when not encrypted
    except (binascii.Error, ValueError):
        return True
    if not head.startswith(_OPENSSH_MAGIC):
        return True
    size = int.from_bytes(head[len(_OPENSSH_MAGIC) : len(_OPENSSH_MAGIC) + 4], "big")
    start = len(_OPENSSH_MAGIC) + 4
    return head[start : start + size] != b"none"
