"""`sensorproxy check` against the lab's cloud, from a real server of another release (trixie, in its own
namespace: a name it cannot resolve stays inside the lab): a hub whose chain ends at the lab's root, a
host behind a "TLS inspection" CA, a name that does not resolve, an address that never answers, and
the same through a parent proxy that wants a login (the right one, then a wrong one). One SSH command
for the whole check; the unreachable address costs its timeout once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from cryptography import x509

from core import azure, projectfile
from core.model import ParentProxy
from core.remote import outbound
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.secret_kind import Kind
from tests.conftest import ROOT
from tests.lab.lab import FILTERED, HOSTS, INSPECTED, Lab
from tests.lab.releases import release_server

pytestmark = pytest.mark.lab
HUB = "hub.azure-devices.net"
NOWHERE = "nowhere.azure-devices.net"
PARENT_LOGIN = ("plant", "Parent-Secret-9")


def lab_root(lab: Lab) -> azure.Root:
    """The lab's root as if it were one of Azure's public roots."""
    cert = x509.load_pem_x509_certificate(lab.ca.read_bytes())
    key_id = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex().upper()
    return azure.Root("sensorproxy lab root", sha1="", key_id=key_id)


def test_check_gives_each_verdict_in_one_command(lab: Lab, tmp_path):
    known = KnownHosts(tmp_path / "known_hosts")
    with release_server(lab, "trixie") as ip:
        target = replace(lab.target(), host=ip, port=22)
        base = lab.project("sp-s1")
        endpoints = (HUB, INSPECTED, NOWHERE, FILTERED)
        project = replace(base, ssh=target, proxy=replace(base.proxy, allowlist_enabled=False, endpoints=endpoints))
        fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
        with SshSession(target, known, {}, accept_fingerprint=fingerprint) as session:
            session.connect()
            before = len(session.commands)
            result = outbound.check(session, project, roots=(lab_root(lab),))
            assert len(session.commands) - before == 1  # every endpoint, every step: one round trip
        by_host = {e.host: e for e in result.endpoints}
        hub, inspected, nowhere, filtered = (by_host[h] for h in endpoints)
        assert hub.ok, hub.verdict
        assert hub.addresses == (HOSTS["sp-cloud"],)
        assert hub.verdict.startswith(
            "TLSv1.3, hub.azure-devices.net, issued by sensorproxy lab root, root sensorproxy"
        )
        assert not inspected.ok
        assert inspected.verdict.startswith(
            "the certificate was issued by Contoso TLS Inspection CA, not by a public root"
        )
        assert not nowhere.ok
        assert nowhere.verdict.startswith("does not resolve on the proxy server")
        assert not filtered.ok
        assert filtered.verdict.startswith(f"no answer from port 443 within {outbound.LIMIT} s")
        assert filtered.tcp_ms >= outbound.LIMIT * 1000 - 100
        assert filtered.tls_ms == 0  # its timeout is paid once: no TLS after a TCP that never answered
        assert not result.ok
        assert result.clock_warning == ""  # the lab server shares this machine's clock

        # Through a parent proxy that wants a login: the right password, then a wrong one.
        lab.start_parent_squid(clients=(ip,), login=PARENT_LOGIN)
        try:
            parent = ParentProxy(HOSTS["sp-parent"], 3128, PARENT_LOGIN[0])
            via = replace(project, proxy=replace(project.proxy, parent=parent, endpoints=(HUB, INSPECTED)))
            for password, hub_ok in ((PARENT_LOGIN[1], True), ("wrong", False)):
                with SshSession(target, known, {}) as session:
                    result = outbound.check(session, via, passwords={Kind.PARENT: password}, roots=(lab_root(lab),))
                hub, inspected = result.endpoints
                assert result.parent == f"{HOSTS['sp-parent']}:3128"
                assert hub.ok is hub_ok, hub.verdict
                if hub_ok:  # through the parent, the inspecting CA is still seen for what it is
                    assert inspected.verdict.startswith("the certificate was issued by Contoso TLS Inspection CA")
                else:
                    assert hub.verdict == "TLS failed: the parent proxy refused the login"
        finally:
            lab.kill("parent-squid")


def test_the_command_line_check_says_each_verdict_and_fails_on_any(lab: Lab, tmp_path):
    """The same from a terminal: `sensorproxy check` with --host; the lab root is no public root, so the
    hub is named as inspected there too (only the lab's own roots differ from Azure's)."""
    with release_server(lab, "trixie") as ip:
        target = replace(lab.target(), host=ip, port=22)
        base = lab.project("sp-s1")
        project = replace(
            base, ssh=target, proxy=replace(base.proxy, allowlist=(".azure-devices.net",), endpoints=(HUB,))
        )
        path = tmp_path / "site.toml"
        projectfile.save(project, path)
        env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"}
        fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
        done = subprocess.run(
            [sys.executable, "-m", "cli", "check", str(path), "--host", NOWHERE, "--accept-host-key", fingerprint],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        out = done.stdout
        assert f"{ip}: the way out to Azure" in out
        assert "[FAIL] hub.azure-devices.net" in out
        assert "not by a public root Azure uses" in out
        assert "[FAIL] nowhere.azure-devices.net" in out
        assert "does not resolve on the proxy server" in out
        assert "checked 2 endpoints in" in out


def test_the_window_checks_the_way_out_and_shows_it_on_the_status_page(lab: Lab, qtbot, tmp_path, monkeypatch):
    """Proxy ▸ Check the way out: the same verdicts in the window, with the parent proxy's password asked
    for in its dialog (the lab root stands in for Azure's, as above)."""
    from tests.qt_helpers import PROXY_MENU, answer_dialogs, open_window, trigger

    monkeypatch.setattr(azure, "AZURE_ROOTS", (lab_root(lab),))
    with release_server(lab, "trixie") as ip:
        target = replace(lab.target(), host=ip, port=22)
        base = lab.project("sp-s1")
        project = replace(
            base, site="Check lab", ssh=target,
            proxy=replace(base.proxy, allowlist=(".azure-devices.net", ".blob.core.windows.net"),
                          endpoints=(HUB, INSPECTED)),
        )  # fmt: skip
        known = KnownHosts(tmp_path / "known_hosts")
        w = open_window(qtbot, project, tmp_path, known)
        seen = answer_dialogs(("Trust this key", None))
        with qtbot.waitSignal(w.server.finished, timeout=120_000) as done:
            trigger(w, PROXY_MENU["check"])
        assert done.args == ["check", True]
        assert seen.titles == ["Unknown server"]
        assert w.tabs.currentWidget() is w.status_page
        view = w.status_view.way_out
        assert view.isVisible()
        hub, inspected = (view.endpoints.item(i).text() for i in range(view.endpoints.count()))
        assert hub.startswith(f"passes   {HUB}   ({HOSTS['sp-cloud']}; DNS ")
        assert inspected.startswith(f"FAILS   {INSPECTED}")
        assert "\nthe certificate was issued by Contoso TLS Inspection CA" in inspected  # in full, on its own line
        assert "1 endpoint failed" in view.summary.text()
        assert w.statusBar().currentMessage() == f"The way out from {ip}: 1 of 2 endpoints failed"


def test_a_server_whose_openssl_cannot_log_in_to_a_parent_proxy_says_so(lab: Lab, tmp_path):
    """bullseye's OpenSSL 1.1.1 has no -proxy_user: the check says what the server lacks."""
    known = KnownHosts(tmp_path / "known_hosts")
    with release_server(lab, "bullseye") as ip:
        target = replace(lab.target(), host=ip, port=22)
        base = lab.project("sp-s1")
        parent = ParentProxy(HOSTS["sp-parent"], 3128, PARENT_LOGIN[0])
        proxy = replace(base.proxy, allowlist_enabled=False, endpoints=(HUB,), parent=parent)
        lab.start_parent_squid(clients=(ip,), login=PARENT_LOGIN)
        try:
            fingerprint = lab.fingerprint(lab.tmp / "host_ed25519.pub")
            with SshSession(target, known, {}, accept_fingerprint=fingerprint) as session:
                result = outbound.check(session, replace(base, ssh=target, proxy=proxy),
                                        passwords={Kind.PARENT: PARENT_LOGIN[1]}, roots=(lab_root(lab),))  # fmt: skip
        finally:
            lab.kill("parent-squid")
        (hub,) = result.endpoints
        assert hub.tcp == "ok"  # the parent proxy answers
        assert hub.verdict == "TLS failed: this server's OpenSSL cannot log in to a parent proxy (it needs OpenSSL 3)"
