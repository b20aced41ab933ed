"""SHA-512-crypt (`$6$`), as Ulrich Drepper published it ("Unix crypt using SHA-256 and SHA-512",
https://www.akkadia.org/drepper/SHA-crypt.txt), for servers whose crypt(3) has no bcrypt.

Python's `crypt` module never existed on Windows and is gone in 3.13, and passlib is unmaintained, so
the algorithm is written out here, step by step as the specification numbers them, and checked against
the specification's own test vectors (tests/unit/test_shacrypt.py)."""

from __future__ import annotations

import hashlib
import secrets

ROUNDS_DEFAULT = 5000  # the specification's: a hash without `rounds=` used this many
ROUNDS_MIN, ROUNDS_MAX = 1000, 999_999_999
SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# The order in which the final digest's bytes are encoded, three at a time (step 22 e): the k-th
# group is bytes k, k+21 and k+42, rotated left by k mod 3.
_ORDER = [(k, k + 21, k + 42)[k % 3 :] + (k, k + 21, k + 42)[: k % 3] for k in range(21)]


def _b64(b2: int, b1: int, b0: int, n: int) -> str:
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(SALT_CHARS[w & 0x3F])
        w >>= 6
    return "".join(out)


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // 64 + 1))[:length]


def sha512_crypt(password: str, salt: str, rounds: int | None = None) -> str:
    """The `$6$` hash of `password` with `salt` (at most 16 characters are used)."""
    key = password.encode()
    salt = salt[:16]
    salt_bytes = salt.encode()
    # steps 4-8: digest B
    b = hashlib.sha512(key + salt_bytes + key).digest()
    # steps 1-3, 9-12: digest A
    a = hashlib.sha512(key + salt_bytes)
    a.update(_repeat(b, len(key)))
    n = len(key)
    while n:
        a.update(b if n & 1 else key)
        n >>= 1
    da = a.digest()
    # steps 13-15: P, from DP; steps 17-20: S, from DS
    p = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    s = _repeat(hashlib.sha512(salt_bytes * (16 + da[0])).digest(), len(salt_bytes))
    # step 21: the rounds
    count = ROUNDS_DEFAULT if rounds is None else max(ROUNDS_MIN, min(ROUNDS_MAX, rounds))
    c = da
    for i in range(count):
        h = hashlib.sha512(p if i & 1 else c)
        if i % 3:
            h.update(s)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    # step 22: the encoding
    encoded = "".join(_b64(c[x], c[y], c[z], 4) for x, y, z in _ORDER) + _b64(0, 0, c[63], 2)
    head = "$6$" if rounds is None else f"$6$rounds={count}$"
    return f"{head}{salt}${encoded}"


def hash_password(password: str, rounds: int) -> str:
    salt = "".join(secrets.choice(SALT_CHARS) for _ in range(16))
    return sha512_crypt(password, salt, rounds)


def verify(password: str, hashed: str) -> bool:
    """Whether `hashed` (a `$6$` hash) is the hash of `password`."""
    if not hashed.startswith("$6$"):
        return False
    fields = hashed[3:].split("$")
    rounds = None
    if fields[0].startswith("rounds="):
        try:
            rounds = int(fields.pop(0)[len("rounds=") :])
        except ValueError:
            return False
    if len(fields) != 2:
        return False
    return secrets.compare_digest(sha512_crypt(password, fields[0], rounds), hashed)
