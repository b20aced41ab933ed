"""Which secret: the one name every part of sensorproxy uses for a password or passphrase."""

from enum import StrEnum


class Kind(StrEnum):
    SSH = "ssh"  # the SSH login's password
    SUDO = "sudo"
    PASSPHRASE = "passphrase"  # noqa: S105 - a kind of secret, not one
    PROXY = "proxy"  # the proxy user the sensors log in with
    PARENT = "parent"  # the upstream parent proxy's login


# In the sentence "… a {noun} is needed"
NOUN = {
    Kind.SSH: "password",
    Kind.SUDO: "sudo password",
    Kind.PASSPHRASE: "key passphrase",
    Kind.PROXY: "proxy password",
    Kind.PARENT: "parent password",
}
