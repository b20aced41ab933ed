"""`sensorproxy export-ansible`: read each site's server (nothing on it changes) and write an Ansible
project whose files are the ones apply would write there."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from cli import sites
from cli.errors import CliError
from cli.sites import Site
from core import ansible_export, squid
from core.remote import server, setup
from core.remote.errors import UnsupportedServer
from core.secret_kind import Kind


def cmd_export_ansible(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{folder} is a file, not a folder")
    hosts: dict[Path, ansible_export.Host] = {}
    lock = threading.Lock()

    def work(site: Site) -> tuple[bool, str]:
        project, session = site.project, site.session
        layout = squid.SquidLayout()
        state = setup.probe(session, layout)
        if problem := server.os_problem(state):
            raise UnsupportedServer(problem)
        if state.squid_version is None:
            raise UnsupportedServer(
                f"{project.ssh.host} has no Squid yet: apply the project first (the export hands over a site "
                "that runs, with the files rendered for the Squid it has)"
            )
        password = site.found.secret(Kind.PROXY, project) if project.proxy.auth_enabled else None
        secrets = squid.Secrets(proxy_password_hash=setup.proxy_hash(project, state, layout, password))
        wanted = setup.desired(project, state, layout, secrets)
        transport = session.client.get_transport() if session.client else None
        assert transport is not None  # sites.run connected it
        key = transport.get_remote_server_key()  # the key sensorproxy just verified
        host = ansible_export.Host(
            project,
            site.path.name,
            wanted.rendered.files,
            wanted.removed,
            f"{key.get_name()} {key.get_base64()}",
            f"{state.os_name}, Squid {state.squid_version}",
        )
        with lock:
            hosts[site.path] = host
        site.out(f"{project.ssh.host}: {host.system}; {len(host.files)} files rendered")
        return True, f"read: {host.system}"

    code = sites.run(args, work)
    if code != 0:
        raise CliError(f"nothing was written to {folder}: a server could not be read (see above)")
    written = ansible_export.write(folder, [hosts[path] for path in args.project])
    print(f"wrote {len(written)} files to {folder}: run `ansible-playbook site.yml` there (see its README.md)")
    return 0
