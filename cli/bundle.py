"""`sensorproxy bundle` and `sensorproxy archive-keys`: offline package bundles made on this computer."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core import releases

BAR = 30


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second; nothing when stderr is not one."""

    def __init__(self) -> None:
        self.shown = 0.0
        self.live = sys.stderr.isatty()

    def __call__(self, done: int, total: int, name: str) -> None:
        now = time.monotonic()
        if not self.live or (now - self.shown < 0.1 and done < total):
            return
        self.shown = now
        filled = BAR * done // total if total else BAR
        line = f"[{'#' * filled}{'.' * (BAR - filled)}] {done / 1e6:6.1f}/{total / 1e6:.1f} MB  {Path(name).name}"
        print(f"\r{line[:100]:<100}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def cmd_bundle(args: argparse.Namespace) -> int:
    from core import bundle_build  # OpenPGP and the archive code load only for this command

    made = bundle_build.build(
        args.dir,
        args.release,
        args.arch,
        mirror=args.mirror,
        security_mirror=args.security_mirror,
        security=not args.no_security,
        keyring=args.keyring,
        progress=ProgressBar(),
    )
    b = made.bundle
    rel = releases.release(args.release)
    print(f"{len(b.packages)} packages ({b.size / 1e6:.1f} MB) for {rel.title} {rel.name} ({b.arch}) in {args.dir}")
    print(f"verified: signed by {'; '.join(made.signers)}; every file by its SHA-256")
    print(f"downloaded {made.downloaded / 1e6:.1f} MB; the rest came from the cache")
    if not args.no_security:
        print("includes the release's updates and security updates")
    else:
        print("without security updates (--no-security)")
    print(f"assumed on every {rel.title} server (not in the bundle): {', '.join(made.assumed)}")
    print(f"then: sensorproxy apply PROJECT --bundle {args.dir}")
    return 0


def cmd_archive_keys(args: argparse.Namespace) -> int:
    from core.archive import describe

    for distro, keyring in releases.KEYRINGS.items():
        print(f"{distro}: {keyring.file.name}, from {keyring.origin}")
        for key in describe(keyring.file):
            expires = f"expires {key.expires:%Y-%m-%d}" if key.expires else "does not expire"
            print(f"  {key.fingerprint}  {expires}  {key.user_id}")
    return 0
