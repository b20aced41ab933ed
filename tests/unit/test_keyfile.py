"""Whether a key needs its passphrase, read from key files in each format OpenSSH and PuTTYgen write."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from core.keyfile import needs_passphrase

F = serialization.PrivateFormat
ENCRYPTED = serialization.BestAvailableEncryption(b"Key-Phrase-5")
PLAIN = serialization.NoEncryption()


@pytest.mark.parametrize(
    ("key", "fmt", "encrypted"),
    [
        ("ed25519", F.OpenSSH, False),
        ("ed25519", F.OpenSSH, True),
        ("rsa", F.OpenSSH, True),
        ("rsa", F.TraditionalOpenSSL, False),  # PEM: -----BEGIN RSA PRIVATE KEY-----
        ("rsa", F.TraditionalOpenSSL, True),  # PEM with Proc-Type: 4,ENCRYPTED
        ("rsa", F.PKCS8, False),
        ("rsa", F.PKCS8, True),  # -----BEGIN ENCRYPTED PRIVATE KEY-----
    ],
)
def test_an_encrypted_key_and_only_that_needs_its_passphrase(tmp_path, key, fmt, encrypted):
    private = ed25519.Ed25519PrivateKey.generate() if key == "ed25519" else rsa.generate_private_key(65537, 2048)
    path = tmp_path / "id"
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, fmt, ENCRYPTED if encrypted else PLAIN))
    assert needs_passphrase(str(path)) is encrypted


@pytest.mark.parametrize("text", [None, "", "not a key\n", "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n"])
def test_a_file_it_cannot_make_out_is_left_to_the_login_to_judge(tmp_path, text):
    path = tmp_path / "id"
    if text is not None:
        path.write_text(text)
    assert needs_passphrase(str(path))
