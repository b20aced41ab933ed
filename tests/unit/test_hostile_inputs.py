"""The input campaign: hostile and malformed input against every field and file the app reads. Each must
give a clear error naming the place, or be handled correctly — never a crash, a traceback for the user,
or a partial write. Valid projects among them render configs the real Squid accepts (tests/squidparse)
and that read back to the same sensors."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import paramiko
import pytest

from core import accesslog, csvio, projectfile, squid
from core.model import ParentProxy, Problem, Project, Sensor, SshTarget, sensor_problems, validate
from core.remote import server
from core.remote.errors import BadServerAnswer, KnownHostsDamaged
from core.remote.hostkeys import KnownHosts
from tests.conftest import FIGURES, ROOT, make_project
from tests.squidparse import read_rendered, server_dir, write_rendered

EXAMPLE = ROOT / "resources" / "example" / "north-plant.toml"
GOOD = EXAMPLE.read_text()

# Every directive rendering writes; a line starting with anything else would be an injection.
DIRECTIVES = {
    "acl",
    "auth_param",
    "cache",
    "cache_peer",
    "cache_peer_access",
    "http_access",
    "http_port",
    "never_direct",
}

HOSTILE_TEXT = [
    "",
    " ",
    " leading",
    "trailing ",
    "new\nline",
    "carriage\rreturn",
    "tab\there",
    "nul\x00byte",
    'double"quote',
    "single'quote",
    "back\\slash",
    "back`tick",
    "http_access allow all",
    "x\nhttp_access allow all",
    "# comment",
    "%00 percent",
    "right\u202eto-left",
    "zero\u200bwidth",
    "bom\ufeffinside",
    "line\u2028separator",
    "Pаcking (Cyrillic а)",
    "Ｆｕｌｌｗｉｄｔｈ",
    "emoji 🛰",
    "x" * 65,
    "x" * 10_000,
    "\x1b[31mred",
    "del\x7f",
    "surrogate \udcff",
    "acl all src 0.0.0.0/0",
    "name | address 10.0.0.1",
]
HOSTILE_ADDRESSES = [
    "",
    " 10.0.0.1",
    "10.0.0.1 ",
    "10.0.0.1\n",
    "10.0.0.1\nhttp_access allow all",
    "10.0.0.1 10.0.0.2",
    "10.0.0.1,10.0.0.2",
    "10.0.0.256",
    "010.0.0.1",
    "1e1.0.0.1",
    "10.0.0",
    "10.0.0.0/33",
    "10.0.0.1/24",
    "0.0.0.0/0",
    "::/0",
    "0.0.0.0",
    "::",
    "127.0.0.1",
    "::1",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "fe80::1%eth0",
    "localhost",
    "sensor.example.com",
    "all",
    "-1.0.0.0",
    "１０.０.０.１",
    "10.0.0.1\x00",
    "1" * 5000,
    "10.0.0.0/8",
    "fd00::/32",
    "[fd00::1]",
    "fd00::1/129",
    "10.0.0.1/-1",
]
HOSTILE_DOMAINS = [
    "",
    "*.example.com",
    "exa mple.com",
    "example",
    "10.0.0.1",
    "-bad.example.com",
    "bad-.example.com",
    "example.com\nhttp_access allow all",
    "ех.com",
    "a" * 64 + ".com",
    ("a" * 60 + ".") * 5 + "com",
    "..example.com",
    "example..com",
    ".",
    "example.com.",
    "all",
]
HOSTILE_USERS = ["", "user name", "root;rm", "x" * 33, "ユーザー", "-dash", "a\nb", "a:b", "$(id)"]
HOSTILE_HOSTS = ["", "host;rm -rf /", "-oProxyCommand=x", "a" * 300, "host name", "ex\nample.com", "[::1]", "1.2.3"]
HOSTILE_PORTS = [0, -1, 65536, 10**9]


def handled(outcome: bool) -> None:
    FIGURES["inputs tried"] += 1
    assert outcome
    FIGURES["inputs handled"] += 1


def rendered_ok(project: Project, tmp: Path, squid_bin: str) -> bool:
    """A valid project renders a config the real Squid parses, and reads back to the same sensors."""
    rendered = squid.render(project, squid.stock_conf())
    back = read_rendered(rendered)
    same = [(s.name, s.address, s.enabled) for s in back.sensors] == [
        (s.name, s.address, s.enabled) for s in project.normalized().sensors
    ]
    rules = rendered.files[0].content
    sensor_list = rendered.file(squid.SquidLayout().sensors_file).content
    directives = [line for line in rules.splitlines() if line and not line.startswith("#")]
    # What Squid reads of the list: each line up to its `#`
    addresses = [line.split("#")[0].strip() for line in sensor_list.splitlines() if not line.startswith("#")]
    addresses = [a for a in addresses if a]
    enabled = [squid.squid_address(s.address) for s in project.sensors if s.enabled]
    injected = any(d.split()[0] not in DIRECTIVES for d in directives) or addresses != enabled
    # write_rendered runs the real `squid -k parse` on what it wrote
    return same and not injected and write_rendered(project, server_dir(tmp / "server"), squid_bin).returncode == 0


def place(p: Problem) -> str:
    """Where a problem is, as data: `sensors row 1, name` or `proxy.allowlist`."""
    return f"{p.section} row {p.row}, {p.field}" if p.row is not None else f"{p.section}.{p.field}"


PLACES = ("sensors row", "proxy.", "ssh.", "site.")


def located(problems, prefix: str) -> bool:
    """Every problem has a place, one of them the expected one, and each says where in words."""
    return (
        bool(problems)
        and all(place(p).startswith(PLACES) and str(p).startswith(p.where()) for p in problems)
        and any(place(p).startswith(prefix) for p in problems)
    )


def refused_or_rendered(project: Project, where: str, tmp: Path, squid_bin: str) -> bool:
    """Invalid input is refused at its place; valid input renders a config the real Squid parses."""
    problems = validate(project)
    return located(problems, where) if problems else rendered_ok(project, tmp, squid_bin)


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_sensor_names_and_notes(text, tmp_path, squid_bin):
    for field in ("name", "notes"):
        sensor = Sensor(text if field == "name" else "Valid", "10.0.0.1", notes=text if field == "notes" else "")
        handled(refused_or_rendered(make_project(sensor), f"sensors row 1, {field}", tmp_path, squid_bin))


@pytest.mark.parametrize("address", HOSTILE_ADDRESSES)
def test_sensor_addresses(address, tmp_path, squid_bin):
    handled(refused_or_rendered(make_project(Sensor("S", address)), "sensors row 1, address", tmp_path, squid_bin))


@pytest.mark.parametrize("domain", HOSTILE_DOMAINS)
def test_allowlist_domains(domain, tmp_path, squid_bin):
    project = make_project(Sensor("S", "10.0.0.1"), allowlist=(domain,))
    handled(refused_or_rendered(project, "proxy.allowlist", tmp_path, squid_bin))


@pytest.mark.parametrize("user", HOSTILE_USERS)
def test_users(user):
    proxy = validate(make_project(Sensor("S", "10.0.0.1"), auth_enabled=True, auth_user=user))
    ssh = validate(replace(make_project(Sensor("S", "10.0.0.1")), ssh=SshTarget("192.0.2.1", user)))
    parent = validate(make_project(Sensor("S", "10.0.0.1"), parent=ParentProxy("up.example", 3128, user)))
    handled(located(proxy, "proxy.auth_user") and located(ssh, "ssh.user"))
    handled((user == "" and not parent) or located(parent, "proxy.parent.user"))


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_hosts(host):
    ssh = validate(replace(make_project(Sensor("S", "10.0.0.1")), ssh=SshTarget(host, "root")))
    parent = validate(make_project(Sensor("S", "10.0.0.1"), parent=ParentProxy(host, 3128)))
    sensor_host = validate(make_project(Sensor("S", "10.0.0.1"), sensor_host=host))
    handled(located(ssh, "ssh.host") and located(parent, "proxy.parent.host"))
    handled((host == "" and not sensor_host) or located(sensor_host, "proxy.sensor_host"))


@pytest.mark.parametrize("port", HOSTILE_PORTS)
def test_ports(port):
    handled(located(validate(make_project(Sensor("S", "10.0.0.1"), port=port)), "proxy.port"))
    handled(located(validate(replace(make_project(), ssh=SshTarget("192.0.2.1", "root", port=port))), "ssh.port"))


CSV_CASES = {
    "excel-de semicolons with BOM": "\ufeffName;Address;Notes\r\nPumpe Süd;10.0.0.1;Halle 3\r\n",
    "excel-us commas, CRLF": "name,address\r\nPump,10.0.0.1\r\n",
    "tabs from a spreadsheet": "Pump\t10.0.0.1\tnote\n",
    "quoted comma in notes": 'name,address,notes\nPump,10.0.0.1,"a, b"\n',
    "unbalanced quote": 'name,address\n"Pump,10.0.0.1\n',
    "NUL byte": "name,address\nPu\x00mp,10.0.0.1\n",
    "only a header": "name,address\n",
    "empty": "",
    "blank lines": "\n\n\nPump,10.0.0.1\n\n",
    "one column": "Pump\n",
    "five columns": "a,10.0.0.1,c,d,e\n",
    "decimal commas (fr)": "nom;adresse;poids\nPompe;10.0.0.1;1,5\n",
    "formula injection": '=HYPERLINK("x"),10.0.0.1\n',
    "host name instead of IP": "Pump,pump.local\n",
    "wide range": "Everyone,0.0.0.0/0\n",
    "directive in name": "http_access allow all,10.0.0.1\n",
    "newline in quoted name": '"Pump\nA",10.0.0.1\n',
    "mac line endings": "Pump,10.0.0.1\rPump2,10.0.0.2\r",
    "very long line": "x" * 200_000 + ",10.0.0.1\n",
    "duplicate rows": "A,10.0.0.1\nA,10.0.0.1\n",
}


@pytest.mark.parametrize("case", sorted(CSV_CASES))
def test_csv_text(case):
    result = csvio.parse(CSV_CASES[case])
    named = all(str(e).startswith("line ") for e in result.errors)
    clean = not any(sensor_problems(s) for s in result.sensors)  # only valid rows come through
    handled((named and clean and len(result.sensors) + len(result.errors) > 0) or case in ("empty", "only a header"))


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("latin1", "name,address\nPumpe Süd,10.0.0.1\n".encode("latin-1")),
        ("utf16 (Excel unicode text)", "name\taddress\nPump\t10.0.0.1\n".encode("utf-16")),
        ("binary", bytes(range(256)) * 10),
        ("gzip", b"\x1f\x8b\x08\x00" + b"\x00" * 50),
    ],
)
def test_csv_files_that_are_not_utf8(name, data, tmp_path):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    try:
        csvio.read(path)
    except csvio.CsvImportError as exc:
        handled("not UTF-8 text" in str(exc) and str(path) in str(exc))
    else:
        handled(False)


def test_csv_with_100000_rows_and_one_bad_row_imports_nothing(tmp_path):
    rows = [f"S{i},10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}" for i in range(100_000)]
    rows[77_777] = "Broken,10.0.0.300"
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(csvio.CsvImportError) as info:
        csvio.read(path)
    handled(info.value.errors[0].line == 77_778 and len(info.value.errors) == 1)
    handled(len(csvio.read(path, skip_bad_rows=True).sensors) == 99_999)


def project_file_cases() -> dict[str, str]:
    cases = {
        "newer schema": GOOD.replace("schema = 1", "schema = 2"),
        "schema as text": GOOD.replace("schema = 1", 'schema = "1"'),
        "no schema": GOOD.replace("schema = 1\n", ""),
        "port as text": GOOD.replace("port = 3128", 'port = "3128"'),
        "unknown auth": GOOD.replace('auth = "key"', 'auth = "telnet"'),
        "sensors as table": GOOD.replace("[[sensors]]", "[sensors]", 1),
        "binary garbage": "\x00\x01\x02garbage",
        "empty": "",
        "json": '{"schema": 1}',
        "allowlist as text": GOOD.replace("allowlist = [", 'allowlist = "x"\nignored = [', 1),
        "duplicate key": GOOD.replace("port = 3128", "port = 3128\nport = 3129", 1),
        "enabled as text": GOOD.replace("enabled = false", 'enabled = "no"'),
    }
    for cut in range(10, len(GOOD), max(1, len(GOOD) // 40)):
        cases[f"truncated at {cut}"] = GOOD[:cut]
    rng = random.Random(1234)
    for i in range(20):
        chars = list(GOOD)
        for _ in range(5):
            chars[rng.randrange(len(chars))] = rng.choice("[]=\"'\n{}#\\\x00")
        cases[f"corrupted {i}"] = "".join(chars)
    return cases


PROJECT_CASES = project_file_cases()


@pytest.mark.parametrize("case", sorted(PROJECT_CASES))
def test_project_files(case, tmp_path):
    path = tmp_path / "site.toml"
    path.write_text(PROJECT_CASES[case], encoding="utf-8", errors="surrogatepass")
    try:
        project = projectfile.load(path)
    except projectfile.ProjectFileError as exc:
        handled(str(path) in str(exc))
        return
    # A corruption can still be a readable file: then validation names what is wrong, or it is fine.
    problems = validate(project)
    handled(all(place(p).startswith(PLACES) for p in problems))


@pytest.mark.parametrize(
    "content",
    [
        "garbage line\n",
        "[1.2.3.4]:22 ssh-ed25519 AAAA!!notbase64\n",
        "[1.2.3.4]:22 ssh-ed25519\n",
        "|1|bad|hash ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n",
        "\x00\xff\xfe binary\n",
    ],
)
def test_damaged_known_hosts_is_named_and_sends_nothing(content, tmp_path):
    path = tmp_path / "known_hosts"
    path.write_bytes(content.encode("utf-8", "surrogateescape") if "\xff" not in content else b"\x00\xff\xfe binary\n")
    client = paramiko.SSHClient()
    try:
        KnownHosts(path).install(client, SshTarget("192.0.2.1", "root"), None)
    except KnownHostsDamaged as exc:
        handled(str(path) in str(exc) and "Nothing was sent" in str(exc))
    else:
        handled(len(client.get_host_keys().keys()) == 0)  # a skipped line trusts nothing
    finally:
        client.close()
    # The same damage in the user's own ~/.ssh/known_hosts (read only) is not the app's to judge: ignored.
    user = paramiko.SSHClient()
    try:
        KnownHosts(tmp_path / "app_known_hosts", user_file=path).install(user, SshTarget("192.0.2.1", "root"), None)
        handled(len(user.get_host_keys().keys()) == 0)
    finally:
        user.close()


PROBE_ANSWERS = {
    "empty": "",
    "noise": "random noise\n" * 100,
    "bad free": "\n@@sp os\nID=debian\n@@sp free\nnotanumber\n",
    "bad port": "\n@@sp listening\nZZZZ\n",
    "bad stat": "\n@@sp file /etc/squid/squid.conf\nnot a stat line\n",
    "bad base64": "\n@@sp file /etc/squid/squid.conf\n644 root root\n!!!not base64!!!\n",
    "huge": "\n@@sp os\n" + "ID=debian\n" * 200_000,
    "binary": "\n@@sp os\n\x00\x01\x02\n@@sp cachelog\n\x00\n",
    "no sections but markers": "@@sp\n@@sp \n@@sp os",
}


@pytest.mark.parametrize("case", sorted(PROBE_ANSWERS))
def test_garbled_server_answers(case):
    try:
        state = server.parse_probe(PROBE_ANSWERS[case], ["/etc/squid/squid.conf"])
    except BadServerAnswer as exc:
        handled("could not be read" in str(exc))
    else:
        handled(server.os_problem(state) is not None or state.os_id == "debian")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a managed file\n",
        "# BEGIN sensorproxy\nacl sensorproxy_sensors src 10.0.0.300\n# END sensorproxy\n",
        "# Managed by sensorproxy.\n# sensorproxy-format: 999\n",
        "\x00" * 100,
        "# Managed by sensorproxy. Do not edit: the next apply replaces this text.\n" + "# sensor %ZZ\n" * 50,
    ],
)
def test_garbled_managed_files_read_back(text):
    try:
        back = squid.read_back(text, None)
    except squid.SquidConfigError as exc:
        handled(bool(str(exc)))
    else:
        handled(isinstance(back.notes, tuple))


@pytest.mark.parametrize(
    "sensor_list",
    [
        "",
        "\x00" * 100,
        "10.0.0.300/32\n",
        "# sensor A | address 10.0.0.1\n",
        "# sensor A | address 10.0.0.1\n10.0.0.2/32\nhttp_access allow all\n",
    ],
)
def test_garbled_sensor_lists_read_back(sensor_list):
    rules = squid.render(make_project(Sensor("A", "10.0.0.1")), squid.stock_conf()).files[0].content
    try:
        back = squid.read_back(rules, sensor_list)
    except (squid.SquidConfigError, ValueError) as exc:
        handled(bool(str(exc)))
    else:
        # A garbled list never reads back as the sensor it fails to describe, and the damage is named.
        handled(Sensor("A", "10.0.0.1") not in back.sensors and bool(back.notes))


@pytest.mark.parametrize(
    "log",
    ["", "garbage\n" * 10, "1 2 3 4 5 6 7 8\n", "x 0 10.0.0.1 TCP_TUNNEL/abc 1 CONNECT h:443 - H -\n", "\x00" * 64],
)
def test_garbled_access_logs(log):
    rows, strangers = accesslog.summarize(accesslog.parse(log), (Sensor("S", "10.0.0.1"),), 0.0)
    handled(rows[0].current is None and rows[0].before is None and strangers == ())


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{broken}"],
        ["render", "{broken}"],
        ["import-csv", "{example}", "{latin1}"],
        ["validate", "{missing}"],
        ["apply", "{broken}", "--yes"],
        ["sheet", "{broken}", "{out}"],
    ],
)
def test_cli_never_shows_a_traceback(args, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text(GOOD[:200])
    example = tmp_path / "example.toml"
    example.write_text(GOOD)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("a,10.0.0.1\nSüd,10.0.0.2\n".encode("latin-1"))
    names = {"broken": broken, "example": example, "latin1": latin1, "missing": tmp_path / "nope.toml",
             "out": tmp_path / "out.csv"}  # fmt: skip
    argv = [a.format(**names) for a in args]
    before = example.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "cli", *argv], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    handled(
        proc.returncode == 1
        and proc.stderr.startswith("sensorproxy: ")
        and "Traceback" not in proc.stderr
        and example.read_bytes() == before
        and not (tmp_path / "out.csv").exists()
    )
