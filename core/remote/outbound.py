"""The proxy server's way out to Azure, checked from the server itself in one round trip: per endpoint,
DNS, TCP 443 and TLS with SNI (through the parent proxy when there is one), the certificate chain up to
its root, and a verdict; and the server's clock against this computer's (core/remote/sh/outbound.sh)."""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from cryptography import x509
from cryptography.x509.oid import NameOID

from core import azure
from core.model import Project, domain_problem
from core.remote import shell
from core.remote.errors import BadServerAnswer, SecretNeeded
from core.remote.session import SshSession
from core.secret_kind import Kind

LIMIT = 5  # seconds each step of each endpoint may take
CLOCK_SKEW = 120.0  # seconds: more, and TLS and Azure's SAS tokens start failing
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class Cert:
    subject: str  # its common name, else the whole name
    issuer: str
    key_id: str  # subject key identifier (hex), "" if it has none
    issuer_key_id: str  # authority key identifier (hex), "" if it has none

    @property
    def self_signed(self) -> bool:
        return self.subject == self.issuer and (not self.issuer_key_id or self.issuer_key_id == self.key_id)


@dataclass(frozen=True)
class Endpoint:
    host: str
    addresses: tuple[str, ...] = ()
    dns_ms: int = -1  # -1: the server's answer has no line for this endpoint
    tcp: str = ""  # ok, refused, timeout; "": not tried
    tcp_ms: int = 0
    tls_ms: int = 0
    protocol: str = ""
    chain: tuple[Cert, ...] = ()  # as the server sent it, leaf first
    tls_said: str = ""  # what s_client said when it failed
    ok: bool = False
    verdict: str = ""


@dataclass(frozen=True)
class CheckResult:
    server: str
    endpoints: tuple[Endpoint, ...]
    clock_offset: float  # this computer's clock minus the server's, in seconds
    seconds: float  # the whole check, as the engineer waits for it
    parent: str = ""  # host:port of the parent proxy the TLS checks went through

    @property
    def failed(self) -> tuple[Endpoint, ...]:
        return tuple(e for e in self.endpoints if not e.ok)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def clock_warning(self) -> str:
        if abs(self.clock_offset) <= CLOCK_SKEW:
            return ""
        ahead = "behind" if self.clock_offset > 0 else "ahead of"
        return (
            f"the server's clock is {abs(self.clock_offset):.0f} s {ahead} this computer's: TLS and Azure's SAS "
            "tokens fail on clocks that are more than a few minutes off; set its time (NTP)"
        )


def script(project: Project, hosts: tuple[str, ...], passwords: Mapping[Kind, str]) -> str:
    """The check for `hosts` as one script (the hosts go in as its arguments, checked first)."""
    for host in hosts:
        if problem := domain_problem(host) if not host.startswith(".") else "a wildcard":
            raise ValueError(f"cannot check {host!r}: {problem}")
    parent = project.proxy.parent
    settings = {
        "limit": str(LIMIT),
        "parent_host": parent.host if parent else "",
        "parent_port": str(parent.port) if parent else "",
        "parent_user": parent.user if parent else "",
    }
    header = [f"{key}={shlex.quote(value)}" for key, value in settings.items()]
    if parent and parent.user:
        password = passwords.get(Kind.PARENT, "")
        header.append(f"SENSORPROXY_PARENT_PASSWORD={shlex.quote(password)}; export SENSORPROXY_PARENT_PASSWORD")
    return "\n".join(header) + "\n" + shell.render("outbound.sh")


def check(
    session: SshSession,
    project: Project,
    extra: tuple[str, ...] = (),
    passwords: Mapping[Kind, str] | None = None,
    *,
    roots: tuple[azure.Root, ...] | None = None,
) -> CheckResult:
    """Check every endpoint of `project` (and `extra`) from its proxy server, all at once; a chain counts
    as Azure's when it ends at one of `roots` (by default azure.AZURE_ROOTS)."""
    roots = roots or azure.AZURE_ROOTS
    hosts = azure.endpoints(project, extra)
    if not hosts:
        raise ValueError("there is nothing to check: name the site's Azure endpoints, or pass --host")
    start = time.monotonic()
    if session.client is None:
        session.connect()
    parent = project.proxy.parent
    if parent and parent.user and not (passwords or {}).get(Kind.PARENT):
        raise SecretNeeded(Kind.PARENT, f"the parent proxy login {parent.user}")
    text = script(project, hosts, passwords or {})
    result = session.run("bash -s -- " + shlex.join(hosts), text.encode(), timeout=LIMIT * 4 + 30)
    received = time.time()
    if not result.ok:
        raise BadServerAnswer(f"{shell.failure(result.returncode, 'the check')} failed: {result.stderr.strip()}")
    sections = _sections(result.stdout)
    try:
        server_now = float(sections.get("now", ["0"])[0])
    except ValueError:
        raise BadServerAnswer("the server's answer to the check could not be read") from None
    endpoints = tuple(judge(parse(host, sections.get(host, [])), roots, parent is not None) for host in hosts)
    return CheckResult(
        server=project.ssh.host,
        endpoints=endpoints,
        clock_offset=received - server_now if server_now else 0.0,
        seconds=time.monotonic() - start,
        parent=f"{parent.host}:{parent.port}" if parent else "",
    )


def _sections(output: str) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("@@sp "):
            current = sections.setdefault(line[5:].strip(), [])
        elif current is not None:
            current.append(line)
    return sections


def parse(host: str, lines: list[str]) -> Endpoint:
    """One endpoint's section of the script's answer."""
    addresses: tuple[str, ...] = ()
    dns_ms, tcp_ms, tls_ms = -1, 0, 0
    tcp = tls_text = ""
    tls_rc: int | None = None
    for i, line in enumerate(lines):
        word, _, rest = line.partition(" ")
        if word == "dns":
            ms, _, listed = rest.partition(" ")
            dns_ms, addresses = _int(ms), tuple(listed.split())
        elif word == "tcp":
            tcp, _, ms = rest.partition(" ")
            tcp_ms = _int(ms)
        elif word == "tls":
            rc, _, ms = rest.partition(" ")
            tls_rc, tls_ms = _int(rc), _int(ms)
            tls_text = "\n".join(lines[i + 1 :])
            break
    chain = tuple(_cert(pem) for pem in _PEM.findall(tls_text))
    protocol = next(iter(re.findall(r"^\s*Protocol\s*:\s*(\S+)", tls_text, re.M)), "")
    protocol = protocol or next(iter(re.findall(r"^New, (TLSv[\d.]+)", tls_text, re.M)), "")
    said = "" if chain or tls_rc is None else _tls_error(tls_text, tls_rc)
    return Endpoint(host, addresses, dns_ms, tcp, tcp_ms, tls_ms, protocol, chain, said)


def judge(e: Endpoint, roots: tuple[azure.Root, ...], via_parent: bool = False) -> Endpoint:
    """The endpoint with its verdict: where its way out ends, in one sentence."""
    verdict, ok = _verdict(e, roots, via_parent)
    return replace(e, ok=ok, verdict=verdict)


def _verdict(e: Endpoint, roots: tuple[azure.Root, ...], via_parent: bool) -> tuple[str, bool]:
    where = "the parent proxy" if via_parent else "port 443"
    if e.dns_ms < 0:
        return "the check did not finish (no answer from the server for this endpoint)", False
    if not e.addresses and not via_parent:
        return "does not resolve on the proxy server (its DNS cannot find the name)", False
    if e.tcp == "timeout":
        return f"no answer from {where} within {LIMIT} s: a firewall drops the connection", False
    if e.tcp == "refused":
        return f"{where} refused the connection", False
    if e.tcp != "ok":
        return "the check did not finish (no answer to the connection)", False
    if not e.chain:
        return f"TLS failed: {e.tls_said or 'no certificate'}", False
    top = e.chain[-1]
    root_key = top.key_id if top.self_signed else top.issuer_key_id
    root = next((r for r in roots if r.key_id == root_key.upper()), None)
    leaf = e.chain[0]
    if root is None:
        issuer = top.subject if top.self_signed else top.issuer
        return (
            f"the certificate was issued by {issuer}, not by a public root Azure uses: something between this "
            "server and Azure inspects TLS; legacy sensors cannot connect through it"
        ), False
    how = f"{e.protocol}, " if e.protocol else ""
    return f"{how}{leaf.subject}, issued by {leaf.issuer}, root {root.name}", True


def _tls_error(text: str, rc: int) -> str:
    """s_client's reason, in a few words."""
    if rc == 124:
        return f"no TLS answer within {LIMIT} s"
    # OpenSSL 3: "HTTP CONNECT failed, reason=Proxy Authentication Required"
    if refused := re.search(r"HTTP CONNECT failed[,:]\s*(?:reason=)?(.*)", text):
        reason = refused.group(1).strip()
        if "407" in reason or "Authentication Required" in reason:
            return "the parent proxy refused the login"
        return (
            f"the parent proxy refused the connection ({reason})"
            if reason
            else "the parent proxy refused the connection"
        )
    known = (
        ("openssl: not found", "openssl is not installed on the server (apt-get install openssl)"),
        ("unknown option -proxy_user", "this server's OpenSSL cannot log in to a parent proxy (it needs OpenSSL 3)"),
        ("unknown option -proxy", "this server's OpenSSL cannot go through a parent proxy"),
        ("Connection refused", "the connection was refused"),
        ("handshake failure", "the TLS handshake failed"),
    )
    for needle, words in known:
        if needle in text:
            return words
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("CONNECTED")]
    return lines[-1][:200] if lines else f"s_client exit {rc}"


def _cert(pem: str) -> Cert:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise BadServerAnswer(f"a certificate in the server's answer could not be read ({exc})") from None
    return Cert(
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        key_id=_key_id(cert, x509.SubjectKeyIdentifier),
        issuer_key_id=_key_id(cert, x509.AuthorityKeyIdentifier),
    )


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string()


def _key_id(cert: x509.Certificate, kind: type[x509.SubjectKeyIdentifier] | type[x509.AuthorityKeyIdentifier]) -> str:
    try:
        value = cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return ""
    digest = value.digest if isinstance(value, x509.SubjectKeyIdentifier) else value.key_identifier
    return digest.hex().upper() if digest else ""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
