"""SHA-512-crypt against the test vectors of its specification, and the probe's throwaway hashes."""

from __future__ import annotations

import bcrypt
import pytest

from core import shacrypt
from core.remote import shell

# Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", https://www.akkadia.org/drepper/SHA-crypt.txt
VECTORS = [
    ("Hello world!", "saltstring", None,
     "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "saltstringsaltstring", 10000,
     "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ("This is just a test", "toolongsaltstring", 5000,
     "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"),
    ("a very much longer text to encrypt.  This one even stretches over morethan one line.",
     "anotherlongsaltstring", 1400,
     "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"),
    ("we have a short salt string but not a short password", "short", 77777,
     "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"),
    ("a short string", "asaltof16chars..", 123456,
     "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"),
    ("the minimum number is still observed", "roundstoolow", 10,
     "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."),
]  # fmt: skip


@pytest.mark.parametrize(("password", "salt", "rounds", "expected"), VECTORS)
def test_the_specifications_vectors(password, salt, rounds, expected):
    assert shacrypt.sha512_crypt(password, salt, rounds) == expected
    assert shacrypt.verify(password, expected)
    assert not shacrypt.verify(password + "x", expected)


def test_a_new_hash_has_a_random_salt_and_the_rounds_asked_for():
    first, second = shacrypt.hash_password("Sensors-1", 6000), shacrypt.hash_password("Sensors-1", 6000)
    assert first.startswith("$6$rounds=6000$")
    assert first != second
    assert shacrypt.verify("Sensors-1", first)
    assert shacrypt.verify("Sensors-1", second)


@pytest.mark.parametrize("hashed", ["", "$2b$10$abc", "$6$rounds=x$salt$hash", "$6$only-salt"])
def test_what_is_no_sha512_crypt_hash_never_verifies(hashed):
    assert not shacrypt.verify("anything", hashed)


def test_the_probes_throwaway_hashes_are_of_its_throwaway_password():
    assert bcrypt.checkpw(shell.PROBE_PASSWORD.encode(), shell.PROBE_HASHES["bcrypt"].encode())
    assert shacrypt.verify(shell.PROBE_PASSWORD, shell.PROBE_HASHES["sha512"])
    probe = shell.render("probe.sh")
    assert shell.PROBE_HASHES["bcrypt"] in probe
    assert shell.PROBE_HASHES["sha512"] in probe
