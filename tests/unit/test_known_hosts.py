"""The app's known_hosts when several sites connect at once (`--parallel`): every new key is kept."""

from __future__ import annotations

import threading

import paramiko

from core.remote.hostkeys import KnownHosts


def test_keys_pinned_at_the_same_time_are_all_kept(tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    hosts = [f"[10.9.0.{n}]:22" for n in range(1, 33)]
    key = paramiko.RSAKey.generate(1024)
    start = threading.Barrier(len(hosts))

    def pin(host: str) -> None:
        start.wait()
        known.pin(host, key)

    threads = [threading.Thread(target=pin, args=(host,)) for host in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = paramiko.HostKeys(str(known.app_file))
    assert sorted(saved.keys()) == sorted(hosts)
