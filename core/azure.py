"""What Azure looks like from the proxy server: the public roots its endpoints' certificates chain to,
and the host names a site's way out is checked against.

Roots: Microsoft's "Azure Certificate Authority details"
(https://learn.microsoft.com/en-us/azure/security/fundamentals/azure-ca-details, root CAs, as listed in
2026; Baltimore CyberTrust Root left out: it expired on 2025-05-12). Each is named by its SHA-1
thumbprint as Microsoft lists it and by its subject key identifier, read from the same certificate in
Debian's ca-certificates (Mozilla's store), which is what a chain's top certificate names as its issuer.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.model import Project


@dataclass(frozen=True)
class Root:
    name: str
    sha1: str  # Microsoft's thumbprint
    key_id: str  # subject key identifier, hex


AZURE_ROOTS = (
    Root(
        "DigiCert Global Root CA",
        sha1="A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
        key_id="03DE503556D14CBB66F0A3E21B1BC397B23DD155",
    ),
    Root(
        "DigiCert Global Root G2",
        sha1="DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
        key_id="4E2254201895E6E36EE60FFAFAB912ED06178F39",
    ),
    Root(
        "DigiCert Global Root G3",
        sha1="7E04DE896A3E666D00E687D33FFAD93BE83D349E",
        key_id="B3DB48A4F9A1C5D8AE3641CC1163696229BC4BC6",
    ),
    Root(
        "DigiCert TLS ECC P384 Root G5",
        sha1="17F3DE5E9F0F19E98EF61F32266E20C407AE30EE",
        key_id="C151455059AB3EE72C5AFA2022120780887C116A",
    ),
    Root(
        "DigiCert TLS RSA4096 Root G5",
        sha1="A78849DC5D7C758C8CDE399856B3AAD0B2A57135",
        key_id="51331CED3640AF17D325CD6968F2AF4E233EB341",
    ),
    Root(
        "Entrust Root Certification Authority - G2",
        sha1="8CF427FD790C3AD166068DE81E57EFBB932272D4",
        key_id="6A72267AD01EEF7DE73B6951D46C8D9F901266AB",
    ),
    Root(
        "Microsoft ECC Root Certificate Authority 2017",
        sha1="999A64C37FF47D9FAB95F14769891460EEC4C3C5",
        key_id="C8CB997270520CF8E6BEB20457292ACF4210ED35",
    ),
    Root(
        "Microsoft RSA Root Certificate Authority 2017",
        sha1="73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74",
        key_id="09CB597F86B2708F1AC339E3C0D9E9BFBB4DB223",
    ),
)


def endpoints(project: Project, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The host names to check: the allowlist's concrete names, the site's own (its IoT hub, storage
    account: what its wildcard entries stand for), then `extra`; each once, in that order."""
    proxy = project.proxy
    concrete = [d for d in proxy.allowlist if not d.startswith(".")] if proxy.allowlist_enabled else []
    return tuple(dict.fromkeys(h.lower().rstrip(".") for h in (*concrete, *proxy.endpoints, *extra)))
