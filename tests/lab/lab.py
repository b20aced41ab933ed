"""The end-to-end lab: network namespaces on a private bridge, a real sshd, the real Squid, curl.

The machine itself (the root namespace) is the proxy server, so apt still reaches the registries; it
owns the bridge address. Sensors, a TLS "cloud" and a parent Squid live in namespaces on the bridge.
Every address used is checked to lie in LAB_NET before anything can use it. The lab works on the
machine's real /etc/squid and puts everything back on teardown; processes are stopped by their pid.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import paramiko

from core.model import AuthMethod, Project, ProxySettings, Sensor, SshTarget
from core.remote import shell
from core.remote.hostkeys import KnownHosts
from core.remote.session import SshSession
from core.secret_kind import Kind

LAB_NET = ipaddress.ip_network("172.30.77.0/24")
LAB_NET6 = ipaddress.ip_network("fd00:30:77::/64")  # the same hosts over IPv6: host N is fd00:30:77::N
BRIDGE = "spbr0"
SSH_PORT = 2222
SUDO_USER = "splab"
SUDO_PASSWORD = "lab-sudo-Secret-4711"
INSPECTED = "inspected.blob.core.windows.net"  # behind a "TLS inspection" CA
CLOUD_NAMES = ("hub.azure-devices.net", "blocked.example.net", INSPECTED)
FILTERED = "filtered.servicebus.windows.net"  # an address that never answers
HOSTS_TAG = "# sensorproxy-lab"
SUDOERS = Path("/etc/sudoers.d/sensorproxy-lab")
PRELOAD = Path("/etc/ld.so.preload")
# What a running lab changed on the machine, so that the next run can undo it if this one is killed.
RECORD = Path("/var/lib/sensorproxy-lab/record.json")


def lab_ip(last: int, *, v6: bool = False) -> str:
    """An address of the lab network (its IPv6 twin with `v6`); refuses anything outside it."""
    net = LAB_NET6 if v6 else LAB_NET
    ip = net.network_address + last
    if ip not in net or ip in (net.network_address, net.broadcast_address):
        raise ValueError(f"{ip} is not a lab host address")
    return str(ip)


SERVER_IP = lab_ip(1)
SERVER_IP6 = lab_ip(1, v6=True)
HOSTS = {
    "sp-s1": lab_ip(11),
    "sp-s2": lab_ip(12),
    "sp-s3": lab_ip(13),
    "sp-cloud": lab_ip(100),
    "sp-parent": lab_ip(50),
    "sp-offline": lab_ip(2),  # a second server, with no route beyond the lab: offline installs
    "sp-bullseye": lab_ip(21),  # servers of other releases (tests/lab/releases.py)
    "sp-trixie": lab_ip(22),
}
FILTERED_IP = lab_ip(101)  # a second address of sp-cloud, whose replies go nowhere
# The names the lab's servers resolve to its cloud (in /etc/hosts, theirs or the machine's).
CLOUD_HOSTS = {**{name: HOSTS["sp-cloud"] for name in CLOUD_NAMES}, FILTERED: FILTERED_IP}


def v6(ip: str) -> str:
    """A lab host's IPv6 address, from its IPv4 one."""
    host = ipaddress.ip_address(ip)
    assert host in LAB_NET
    return lab_ip(int(host) - int(LAB_NET.network_address), v6=True)


def sh(
    *cmd: str, check: bool = True, input: str | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, input=input, timeout=timeout, env=env)


def wait_port(ip: str, port: int, timeout: float = 20.0, netns: str | None = None) -> None:
    assert ipaddress.ip_address(ip) in LAB_NET
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if netns is None:
            with contextlib.suppress(OSError), socket.create_connection((ip, port), timeout=1):
                return
        elif (
            sh("ip", "netns", "exec", netns, "bash", "-c", f"exec 3<>/dev/tcp/{ip}/{port}", check=False).returncode == 0
        ):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {ip}:{port}")


@dataclass
class Lab:
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sensorproxy-lab-")))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    hosts_before: str = ""
    squid_backup: Path | None = None
    backups_existed: bool = False
    squid_installed: bool = False
    user_created: bool = False
    recovered: str | None = None  # the directory of a killed run this one cleaned up after

    # --- paths -----------------------------------------------------------------------------------
    @property
    def client_key(self) -> Path:
        return self.tmp / "client_ed25519"

    @property
    def cloud_delay(self) -> Path:
        """Seconds the cloud waits before each TLS handshake (none unless a benchmark writes one)."""
        return self.tmp / "cloud-delay"

    @property
    def ca(self) -> Path:
        """The lab cloud's root certificate (curl trusts it in the sensors)."""
        return self.tmp / "cloud-root.pem"

    # --- setup -----------------------------------------------------------------------------------
    def start(self) -> Lab:
        self.tmp.chmod(0o711)  # the parent Squid runs as `proxy` and writes its logs below
        # Before the `try`: while another lab run lives this refuses, and must not tear that run down.
        self.recovered = recover()
        try:
            self._clean_leftovers()
            self._save_machine_state()
            self._network()
            self._cloud()
            self._users_and_keys()
            self.start_sshd("sshd", SSH_PORT, self.tmp / "host_ed25519")
        except BaseException:
            self.stop()
            raise
        return self

    def _clean_leftovers(self) -> None:
        for ns in HOSTS:
            self.kill_namespace(ns)
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "link", "del", f"{ns}-h", check=False)
        sh("ip", "link", "del", BRIDGE, check=False)
        if PRELOAD.exists() and "glibc_crypt.so" in PRELOAD.read_text():  # a run killed inside glibc_crypt()
            PRELOAD.unlink()
        used = sh("ip", "-o", "addr", "show").stdout
        if "172.30.77." in used or "fd00:30:77:" in used:
            raise RuntimeError(f"{LAB_NET} is already in use on this machine; the lab needs it for itself")

    def _save_machine_state(self) -> None:
        # without any line of ours: a run killed before runs kept a record left them behind
        lines = Path("/etc/hosts").read_text().splitlines(keepends=True)
        self.hosts_before = "".join(line for line in lines if not line.rstrip().endswith(HOSTS_TAG))
        self.squid_installed = Path("/usr/sbin/squid").exists()
        if Path("/etc/squid").exists():
            self.squid_backup = self.tmp / "etc-squid"
            shutil.copytree("/etc/squid", self.squid_backup, symlinks=True)
        self.backups_existed = Path("/var/backups/sensorproxy").exists()
        self._record()
        self.stop_squid()

    def _network(self) -> None:
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{SERVER_IP}/{LAB_NET.prefixlen}", "dev", BRIDGE)
        sh("sysctl", "-q", "-w", f"net.ipv6.conf.{BRIDGE}.disable_ipv6=0")
        sh("ip", "addr", "add", f"{SERVER_IP6}/{LAB_NET6.prefixlen}", "dev", BRIDGE, "nodad")
        sh("ip", "link", "set", BRIDGE, "up")
        for ns, ip in HOSTS.items():
            host_end = f"{ns}-h"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", host_end, "master", BRIDGE, "up")
            sh("ip", "-n", ns, "addr", "add", f"{ip}/{LAB_NET.prefixlen}", "dev", "eth0")
            # IPv6 too (nodad: usable at once), so IPv6 sensors are proven through Squid, not only rendered
            sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.eth0.disable_ipv6=0")
            sh("ip", "-n", ns, "addr", "add", f"{v6(ip)}/{LAB_NET6.prefixlen}", "dev", "eth0", "nodad")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        lines = "".join(f"{ip} {name} {HOSTS_TAG}\n" for name, ip in CLOUD_HOSTS.items())
        Path("/etc/hosts").write_text(self.hosts_before + lines)

    def _cloud(self) -> None:
        """The lab's Azure: one TLS server on sp-cloud whose certificates chain to the lab's own root (as
        Azure's chain to a public root), except for INSPECTED, which a "TLS inspection" CA signs; and an
        address of sp-cloud that never answers (its replies go to a blackhole): FILTERED."""
        root_key, inspection_key = self.tmp / "root.key", self.tmp / "inspection.key"
        _ca(self.ca, root_key, "sensorproxy lab root")
        _ca(self.tmp / "inspection.pem", inspection_key, "Contoso TLS Inspection CA")
        hub = _leaf(self.tmp / "hub", [n for n in CLOUD_NAMES if n != INSPECTED], self.ca, root_key)
        inspected = _leaf(self.tmp / "inspected", [INSPECTED], self.tmp / "inspection.pem", inspection_key)
        server = self.tmp / "cloud.py"
        server.write_text(
            textwrap.dedent(f"""
            import http.server, socket, ssl, time
            class H(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    body = b"azure-ok " + self.headers.get("Host", "").encode()
                    self.send_response(200); self.send_header("Content-Length", str(len(body)))
                    self.end_headers(); self.wfile.write(body)
                def log_message(self, *a): pass
            def context(pem, key):
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(pem, key); return ctx
            hub, inspected = context("{hub}.pem", "{hub}.key"), context("{inspected}.pem", "{inspected}.key")
            def by_name(sock, name, _ctx):
                if name == "{INSPECTED}":
                    sock.context = inspected
            hub.sni_callback = by_name
            class Server(http.server.ThreadingHTTPServer):
                def finish_request(self, request, client_address):
                    # In the connection's own thread: handshakes run side by side, each after the delay a
                    # benchmark may set (a distant endpoint's round trips), as Azure's do.
                    try:
                        time.sleep(float(open("{self.cloud_delay}").read() or 0))
                    except (OSError, ValueError):
                        pass
                    request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms ACK waits
                    try:
                        tls = hub.wrap_socket(request, server_side=True)
                    except (OSError, ssl.SSLError):
                        return
                    self.RequestHandlerClass(tls, client_address, self)
            Server(("{HOSTS["sp-cloud"]}", 443), H).serve_forever()
        """)
        )
        self.spawn("cloud", ["ip", "netns", "exec", "sp-cloud", "python3", str(server)])
        sh("ip", "-n", "sp-cloud", "addr", "add", f"{FILTERED_IP}/{LAB_NET.prefixlen}", "dev", "eth0")
        sh("ip", "-n", "sp-cloud", "rule", "add", "from", FILTERED_IP, "lookup", "100")
        sh("ip", "-n", "sp-cloud", "route", "add", "blackhole", "default", "table", "100")
        wait_port(HOSTS["sp-cloud"], 443, netns="sp-s1")

    def _users_and_keys(self) -> None:
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.client_key))
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.tmp / "host_ed25519"))
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.tmp / "host2_ed25519"))
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.tmp / "host3_ed25519"))
        auth = self.tmp / "authorized_keys"
        auth.mkdir(mode=0o755)
        pub = self.client_key.with_suffix(".pub").read_text()
        for user in ("root", SUDO_USER):
            (auth / user).write_text(pub)
        if sh("id", SUDO_USER, check=False).returncode != 0:
            sh("useradd", "--create-home", "--shell", "/bin/sh", SUDO_USER)
            self.user_created = True
            self._record()
        sh("chpasswd", input=f"{SUDO_USER}:{SUDO_PASSWORD}\n")
        SUDOERS.write_text(f"{SUDO_USER} ALL=(ALL:ALL) ALL\nDefaults:{SUDO_USER} !lecture\n")
        SUDOERS.chmod(0o440)

    def start_sshd(self, name: str, port: int, host_key: Path, *, netns: str | None = None) -> None:
        """An sshd on the server's address, or inside `netns` on that namespace's address: whatever its
        sessions run (apt, Squid) then has that namespace's network, which reaches only the lab."""
        ip = HOSTS[netns] if netns else SERVER_IP
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = self.tmp / f"{name}_config"
        config.write_text(
            textwrap.dedent(f"""
            Port {port}
            ListenAddress {ip}
            HostKey {host_key}
            PidFile {self.tmp}/{name}.pid
            AuthorizedKeysFile {self.tmp}/authorized_keys/%u
            StrictModes no
            PermitRootLogin prohibit-password
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            UsePAM no
            Subsystem sftp internal-sftp
        """)
        )
        prefix = ["ip", "netns", "exec", netns] if netns else []
        self.spawn(name, [*prefix, "/usr/sbin/sshd", "-D", "-e", "-f", str(config)])
        wait_port(ip, port)

    def spawn(self, name: str, argv: list[str]) -> None:
        with open(self.tmp / f"{name}.log", "ab") as log:  # the child keeps its own copy of the fd
            self.procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._record()

    def _record(self) -> None:
        """Write down what this run changed on the machine, as it goes (see `recover`)."""
        RECORD.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        state = {
            "owner": _process_id(os.getpid()),
            "tmp": str(self.tmp),
            "hosts_before": self.hosts_before,
            "squid_backup": str(self.squid_backup) if self.squid_backup else None,
            "backups_existed": self.backups_existed,
            "squid_installed": self.squid_installed,
            "user_created": self.user_created,
            "pids": [p.pid for p in self.procs.values()],
        }
        RECORD.write_text(json.dumps(state))

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    @staticmethod
    def kill_namespace(ns: str) -> None:
        """End every process left in one of the lab's namespaces (a Squid helper such as its pinger
        outlives Squid and would keep a deleted namespace, and its link on the bridge, alive)."""
        assert ns in HOSTS
        for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)

    # --- Squid -----------------------------------------------------------------------------------
    @staticmethod
    def squid_pid() -> int | None:
        try:
            pid = int(Path("/run/squid.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    @contextlib.contextmanager
    def glibc_crypt(self) -> Iterator[None]:
        """The server's crypt(3) as glibc's own (Ubuntu 18.04, Debian 10): no bcrypt. A shim (see
        data/glibc_crypt.c) is preloaded into every process through /etc/ld.so.preload, so the probe's
        helper run and the helpers Squid starts both meet it; it lies in the lab's directory, which the
        proxy user can read."""
        lib = self.tmp / "glibc_crypt.so"
        if not lib.exists():
            sh("gcc", "-shared", "-fPIC", "-O2", "-o", str(lib), str(Path(__file__).parent / "data" / "glibc_crypt.c"))
            lib.chmod(0o755)
        before = PRELOAD.read_text() if PRELOAD.exists() else None
        PRELOAD.write_text(f"{lib}\n")
        try:
            yield
        finally:
            if before is None:
                PRELOAD.unlink()
            else:
                PRELOAD.write_text(before)

    def stop_squid(self) -> None:
        """Stop the machine's Squid by the pid in its pid file (SIGINT: a fast shutdown)."""
        pid = self.squid_pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def start_parent_squid(
        self, *, clients: tuple[str, ...] = (SERVER_IP,), login: tuple[str, str] | None = None
    ) -> Path:
        """A second Squid in the sp-parent namespace, accepting only `clients` (the proxy server), and
        with `login` (user, password) only those who give it."""
        d = self.tmp / "parent"
        d.mkdir(exist_ok=True)
        shutil.chown(d, "proxy", "proxy")
        conf = d / "squid.conf"
        auth = ""
        if login is not None:
            hashed = bcrypt.hashpw(login[1].encode(), bcrypt.gensalt(rounds=4)).decode()
            (d / "passwd").write_text(f"{login[0]}:{hashed}\n")
            auth = f"auth_param basic program /usr/lib/squid/basic_ncsa_auth {d}/passwd\nacl login proxy_auth REQUIRED"
        conf.write_text(
            textwrap.dedent(f"""
            acl proxyserver src {" ".join(clients)}
            acl SSL_ports port 443
            @AUTH@
            http_access deny CONNECT !SSL_ports
            http_access allow proxyserver{" login" if login else ""}
            http_access deny all
            http_port {HOSTS["sp-parent"]}:3128
            pid_filename {d}/squid.pid
            access_log stdio:{d}/access.log
            cache_log {d}/cache.log
            cache_store_log none
            cache deny all
            coredump_dir {d}
            hosts_file /etc/hosts
        """).replace("@AUTH@", auth)
        )
        self.spawn("parent-squid", ["ip", "netns", "exec", "sp-parent", "squid", "-N", "-f", str(conf)])
        wait_port(HOSTS["sp-parent"], 3128, netns="sp-s1")
        return d / "access.log"

    # --- the app's side ----------------------------------------------------------------------------
    @staticmethod
    def public_key(pub: Path) -> paramiko.PKey:
        kind, data = pub.read_text().split()[:2]
        return paramiko.PKey.from_type_string(kind, base64.b64decode(data))

    @classmethod
    def fingerprint(cls, pub: Path) -> str:
        return cls.public_key(pub).fingerprint

    def host_key(self) -> paramiko.PKey:
        """The lab server's host key, as the app pins it."""
        return self.public_key(self.tmp / "host_ed25519.pub")

    def pinned(self, path: Path, host: str = SERVER_IP, port: int = SSH_PORT) -> KnownHosts:
        """An app known_hosts at `path` that already trusts the lab server's key at host:port."""
        known = KnownHosts(path)
        known.pin(f"[{host}]:{port}", self.host_key())
        return known

    def target(self, user: str = "root", *, port: int = SSH_PORT) -> SshTarget:
        return SshTarget(
            host=SERVER_IP,
            user=user,
            port=port,
            auth=AuthMethod.KEY,
            key_path=str(self.client_key),
            sudo=user != "root",
        )

    def session(self, known: KnownHosts, user: str = "root", *, sudo_password: str | None = None) -> SshSession:
        """A session that accepts the lab server's real host key (first contact is tested on its own)."""
        fp = self.fingerprint(self.tmp / "host_ed25519.pub")
        return SshSession(self.target(user), known, {Kind.SUDO: sudo_password}, accept_fingerprint=fp)

    def project(self, *names: str, user: str = "root", **proxy: object) -> Project:
        sensors = tuple(Sensor(f"Sensor {n}", HOSTS[n]) for n in names)
        return Project("Lab", self.target(user), ProxySettings(**proxy), sensors)  # type: ignore[arg-type]

    # --- clients ---------------------------------------------------------------------------------
    def curl(
        self,
        ns: str,
        url: str = "https://hub.azure-devices.net/",
        *,
        port: int = 3128,
        credentials: str | None = None,
        proxy_ip: str = SERVER_IP,
    ) -> tuple[int, int, str]:
        """(the proxy's CONNECT answer, the final HTTP status, the body) as curl in a namespace sees them.
        Credentials go through curl's config on stdin, never on its command line."""
        assert ns in HOSTS
        assert any(ipaddress.ip_address(proxy_ip) in net for net in (LAB_NET, LAB_NET6))  # only the lab's
        config = f'proxy-user = "{credentials}"\n' if credentials else ""
        proc = sh(
            "ip",
            "netns",
            "exec",
            ns,
            "curl",
            "-sS",
            "-K",
            "-",
            "--max-time",
            "15",
            "--proxy",
            f"http://[{proxy_ip}]:{port}" if ":" in proxy_ip else f"http://{proxy_ip}:{port}",
            "--cacert",
            str(self.ca),
            "-w",
            "\n%{http_connect} %{http_code}",
            url,
            check=False,
            input=config,
            timeout=30,
        )
        body, _, codes = proc.stdout.rpartition("\n")
        connect, http = codes.split()
        return int(connect), int(http), body

    # --- teardown --------------------------------------------------------------------------------
    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)
        self.stop_squid()
        if self.squid_installed and not Path("/usr/sbin/squid").exists():  # a test purged it and failed
            sh("apt-get", "install", "-y", "-q", "squid", check=False, timeout=600)
        if self.squid_backup is not None:
            shutil.rmtree("/etc/squid", ignore_errors=True)
            shutil.copytree(self.squid_backup, "/etc/squid", symlinks=True)
        if not self.backups_existed:
            shutil.rmtree("/var/backups/sensorproxy", ignore_errors=True)
        for leftover in (shell.LOCK_FILE, shell.OWNER_FILE, shell.CHANGE_LOCK):
            Path(leftover).unlink(missing_ok=True)
        if self.hosts_before:
            Path("/etc/hosts").write_text(self.hosts_before)
        SUDOERS.unlink(missing_ok=True)
        if self.user_created:
            sh("userdel", "--remove", SUDO_USER, check=False)
        for ns in HOSTS:
            self.kill_namespace(ns)
            sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
        RECORD.unlink(missing_ok=True)


def _process_id(pid: int) -> list[int] | None:
    """A process as (pid, start time): a pid the kernel gave to another process since does not match."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return [pid, int(fields[19])]  # starttime, the 22nd field of stat(5)


def recover() -> str | None:
    """A run that was killed (a timeout, SIGKILL) could not stop: undo what its record says it did,
    as its own stop would have, and only that. Returns that run's directory, if there was one."""
    if not RECORD.exists():
        return None
    state = json.loads(RECORD.read_text())
    owner = state.get("owner")
    if owner and _process_id(owner[0]) == owner:
        raise RuntimeError(f"another lab run (process {owner[0]}) is using this machine; wait for it to end")
    old = Lab(
        tmp=Path(state["tmp"]),
        hosts_before=state["hosts_before"],
        squid_backup=Path(state["squid_backup"]) if state["squid_backup"] else None,
        backups_existed=state["backups_existed"],
        squid_installed=state["squid_installed"],
        user_created=state["user_created"],
    )
    for pid in state["pids"]:  # its sshd and the like, in this namespace; only if still that process
        with contextlib.suppress(OSError):
            if state["tmp"].encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)
    old.stop()
    return state["tmp"]


class Relay:
    """A TCP relay on loopback in front of a lab address. While `hold()` is on, new connections wait
    before anything is forwarded, so a test can act at a known point of a run."""

    def __init__(self, ip: str, port: int) -> None:
        if ipaddress.ip_address(ip) not in LAB_NET:
            raise ValueError(f"{ip} is not a lab address")
        self.target = (ip, port)
        self.gate = threading.Event()
        self.gate.set()
        self.refusing = False
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def cut(self) -> None:
        """Drop every connection through the relay now, and refuse new ones: a network failure."""
        self.refusing = True
        self.gate.set()
        for sock in list(self.sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _serve(self, client: socket.socket) -> None:
        self.sockets.append(client)
        if not self.gate.wait(60) or self.refusing:
            client.close()
            return
        upstream = socket.create_connection(self.target, timeout=10)
        upstream.settimeout(None)
        self.sockets.append(upstream)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self.gate.set()
        self.server.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # close() alone would wait for the pump blocked in recv()
            sock.close()


def _pump(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


class SecretService:
    """A real Secret Service for this process: a private D-Bus session bus with gnome-keyring-daemon
    on it, its login collection unlocked. `env` is what a process needs to use it."""

    def __init__(self, home: Path) -> None:
        run = home / "run"
        run.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.env = {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_RUNTIME_DIR": str(run),
            "PATH": os.environ["PATH"],
        }
        out = sh("dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1", timeout=30).stdout
        address, pid = out.split()[:2]
        self.bus_pid = int(pid)
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        assert self.daemon.stdin is not None
        self.daemon.stdin.write(b"unlock-pw")  # the login collection's password, read once from stdin
        self.daemon.stdin.close()
        deadline = time.monotonic() + 20
        while "boolean true" not in self._has_owner():
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                self.stop()
                raise RuntimeError("gnome-keyring-daemon did not appear on the session bus")
            time.sleep(0.1)

    def _has_owner(self) -> str:
        return sh(
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
            check=False,
            env=self.env,
        ).stdout

    def stop(self) -> None:
        self.daemon.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.daemon.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.bus_pid, signal.SIGTERM)


def _ca(pem: Path, key: Path, name: str) -> None:
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", str(key), "-out", str(pem), "-days", "2", "-subj", f"/CN={name}",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip


def _leaf(base: Path, names: list[str], ca: Path, ca_key: Path) -> Path:
    """A server certificate for `names` signed by `ca`: BASE.pem and BASE.key."""
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", f"{base}.key", "-out", f"{base}.csr", "-subj", f"/CN={names[0]}")  # fmt: skip
    ext = base.with_suffix(".ext")
    ext.write_text(
        f"subjectAltName={','.join(f'DNS:{n}' for n in names)}\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nbasicConstraints=CA:FALSE\n"
    )
    sh("openssl", "x509", "-req", "-in", f"{base}.csr", "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
       "-days", "2", "-extfile", str(ext), "-out", f"{base}.pem")  # fmt: skip
    return base
