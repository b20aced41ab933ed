"""The way-out check's reading of the server's answer and its verdicts, on certificates made here: a
chain to a known root passes, one to any other root is named as TLS inspection. The lab proves the rest
against real TLS servers (tests/lab/test_outbound.py)."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core import azure
from core.model import ParentProxy, Sensor
from core.remote import outbound
from core.secret_kind import Kind
from tests.conftest import make_project


def make_cert(cn: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None, *, ca: bool = False):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    cert = builder.sign(issuer_key, hashes.SHA256())
    return cert, (name, key)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_id(cert: x509.Certificate) -> str:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex().upper()


ROOT, ROOT_SIGNER = make_cert("Lab Root G2", ca=True)
HUB, _ = make_cert("hub.azure-devices.net", ROOT_SIGNER)
INSPECTION, INSPECTION_SIGNER = make_cert("Contoso TLS Inspection CA", ca=True)
INSPECTED, _ = make_cert("hub.azure-devices.net", INSPECTION_SIGNER)
ROOTS = (azure.Root("Lab Root G2", sha1="00" * 20, key_id=key_id(ROOT)),)


def answer(
    *certs: x509.Certificate, dns: str = "dns 3 172.30.77.100 ", tcp: str = "tcp ok 2", rc: int = 0
) -> list[str]:
    tls = ["CONNECTED(00000003)", "---", "Certificate chain"] + [pem(c) for c in certs]
    tls += ["---", "New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384", "SSL-Session:", "    Protocol  : TLSv1.3"]
    return "\n".join([dns, tcp, f"tls {rc} 41", *tls]).splitlines()


def verdict(lines: list[str], *, via_parent: bool = False) -> outbound.Endpoint:
    return outbound.judge(outbound.parse("hub.azure-devices.net", lines), ROOTS, via_parent)


def test_a_chain_to_a_known_root_passes_with_its_protocol_and_root():
    e = verdict(answer(HUB))
    assert e.ok
    assert e.addresses == ("172.30.77.100",)
    assert (e.dns_ms, e.tcp_ms, e.tls_ms) == (3, 2, 41)
    assert e.verdict == "TLSv1.3, hub.azure-devices.net, issued by Lab Root G2, root Lab Root G2"
    assert verdict(answer(HUB, ROOT)).ok  # the root sent along (self-signed at the top) is known as well


def test_any_other_root_is_named_as_tls_inspection():
    e = verdict(answer(INSPECTED))
    assert not e.ok
    assert e.verdict == (
        "the certificate was issued by Contoso TLS Inspection CA, not by a public root Azure uses: something "
        "between this server and Azure inspects TLS; legacy sensors cannot connect through it"
    )
    # A CA that calls itself by a public root's name is still not that root: keys decide, not names.
    _impostor, signer = make_cert("Lab Root G2", ca=True)
    assert not verdict(answer(make_cert("hub.azure-devices.net", signer)[0])).ok


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (["dns 2 "], "does not resolve on the proxy server"),
        (["dns 2 10.0.0.9 ", "tcp timeout 5004"], f"no answer from port 443 within {outbound.LIMIT} s"),
        (["dns 2 10.0.0.9 ", "tcp refused 1"], "port 443 refused the connection"),
        (
            ["dns 2 10.0.0.9 ", "tcp ok 1", "tls 1 9", "CONNECTED(00000003)", "write:errno=104"],
            "TLS failed: write:errno=104",
        ),
        (["dns 2 10.0.0.9 ", "tcp ok 1", "tls 124 5000"], f"TLS failed: no TLS answer within {outbound.LIMIT} s"),
        ([], "the check did not finish"),
    ],
)
def test_each_way_to_fail_says_where(lines, words):
    e = verdict(lines)
    assert not e.ok
    assert e.verdict.startswith(words)


def test_through_a_parent_proxy_the_names_are_the_parents_to_resolve():
    said = ["dns 2 ", "tcp ok 1", "tls 1 30", "CONNECTED(00000003)"]
    login = [*said, "s_client: HTTP CONNECT failed, reason=Proxy Authentication Required"]
    assert verdict(login, via_parent=True).verdict == "TLS failed: the parent proxy refused the login"
    forbidden = [*said, "s_client: HTTP CONNECT failed, reason=Forbidden"]
    assert (
        verdict(forbidden, via_parent=True).verdict == "TLS failed: the parent proxy refused the connection (Forbidden)"
    )
    assert verdict(["dns 2 ", "tcp timeout 5001"], via_parent=True).verdict.startswith(
        "no answer from the parent proxy"
    )


def test_the_script_takes_host_names_only_and_keeps_the_parent_password_out_of_arguments():
    parent = ParentProxy("up.example", 8080, "plant")
    project = make_project(Sensor("A", "10.0.0.1"), parent=parent)
    text = outbound.script(project, ("hub.azure-devices.net",), {Kind.PARENT: "Up-pass 1"})
    assert "SENSORPROXY_PARENT_PASSWORD='Up-pass 1'; export SENSORPROXY_PARENT_PASSWORD" in text
    assert "-proxy_pass env:SENSORPROXY_PARENT_PASSWORD" in text
    assert "parent_host=up.example" in text
    for hostile in ("a;reboot", "-x.example", ".azure-devices.net", "10.0.0.1"):
        with pytest.raises(ValueError, match="cannot check"):
            outbound.script(project, (hostile,), {})


def test_the_endpoints_are_the_allowlists_names_then_the_sites_own_then_extra():
    project = make_project(Sensor("A", "10.0.0.1"))
    project = replace(project, proxy=replace(project.proxy, endpoints=("contoso-hub.azure-devices.net",)))
    assert azure.endpoints(project, ("Extra.Blob.Core.Windows.Net", "download.microsoft.com")) == (
        "download.microsoft.com", "contoso-hub.azure-devices.net", "extra.blob.core.windows.net",
    )  # fmt: skip


def test_a_skewed_clock_is_a_warning_with_the_reason():
    result = outbound.CheckResult("proxy", (), clock_offset=-300.0, seconds=1.0)
    assert result.clock_warning.startswith("the server's clock is 300 s ahead of this computer's")
    assert outbound.CheckResult("proxy", (), clock_offset=30.0, seconds=1.0).clock_warning == ""


def test_the_public_roots_are_microsofts_list_with_the_keys_of_debians_copies():
    """Each root's thumbprint and key identifier match the certificate in ca-certificates, where present."""
    from pathlib import Path

    store = Path("/usr/share/ca-certificates/mozilla")
    checked = 0
    for root in azure.AZURE_ROOTS:
        path = store / (root.name.replace(" ", "_").replace("TLS_RSA4096", "TLS_RSA4096") + ".crt")
        if not path.exists():
            continue
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        assert cert.fingerprint(hashes.SHA1()).hex().upper() == root.sha1  # noqa: S303 - Microsoft lists SHA-1
        assert key_id(cert) == root.key_id
        checked += 1
    assert checked >= 6


def test_the_sites_endpoints_are_host_names_the_sensors_may_reach_and_saved_with_the_project(tmp_path):
    from core import projectfile
    from core.model import validate

    project = make_project(Sensor("A", "10.0.0.1"))
    hosts = (
        "contoso-hub.azure-devices.net",
        "Contoso-Hub.azure-devices.net",
        ".blob.core.windows.net",
        "elsewhere.example",
    )
    problems = validate(replace(project, proxy=replace(project.proxy, endpoints=hosts)))
    assert [(p.field, p.message) for p in problems] == [
        ("endpoints", "contoso-hub.azure-devices.net is listed twice"),
        ("endpoints", "an endpoint is a host name, not a wildcard"),
        ("endpoints", "elsewhere.example is not in the destinations: sensors could not reach it"),
    ]
    good = replace(project, proxy=replace(project.proxy, endpoints=hosts[:1]))
    assert validate(good) == []
    projectfile.save(good, tmp_path / "p.toml")
    assert projectfile.load(tmp_path / "p.toml").proxy.endpoints == hosts[:1]
    projectfile.save(project, tmp_path / "q.toml")
    assert "endpoints" not in (tmp_path / "q.toml").read_text()  # older files save as they were
