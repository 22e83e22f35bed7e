"""``wfplan serve``: the planners' what-if page on one address (registered on the ``wfplan`` group through the
``wfplan.commands`` entry points, so the engine never imports the page).

The command checks its options (a bad one exits 2 with its message), then becomes Streamlit's server running
:mod:`web.app`, bound to 127.0.0.1 unless ``--host`` says otherwise, with uploads capped at ``--max-upload-mb``;
the page's settings travel in environment variables (:mod:`web.settings`).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from optimizer.cli.common import db_option
from optimizer.registry.store import RunStore
from web.settings import DEFAULT_MAX_UPLOAD_MB, DEFAULT_WORKERS, ENV_DB, ENV_HOME, ENV_MAX_UPLOAD, ENV_WORKERS

APP = Path(__file__).with_name("app.py")


def check_address(host: str, port: int) -> None:
    """Raise click.UsageError (exit 2) unless ``host`` resolves and ``port`` is free on it."""
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise click.UsageError(f"--host {host}: not an address of this machine ({exc.strerror})") from None
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise click.UsageError(f"cannot serve on {host}:{port}: {exc.strerror}; choose another --port "
                                   "(or stop what holds it)") from None


def streamlit_command(host: str, port: int, max_upload_mb: int) -> list[str]:
    """The ``streamlit run`` command line of the page: headless, no usage statistics, no file watcher, the
    upload cap in MB."""
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--server.maxUploadSize", str(max_upload_mb), "--server.fileWatcherType", "none",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
            "--client.showErrorDetails", "none", "--theme.base", "light", "--runner.magicEnabled", "false"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to listen on (another than 127.0.0.1 opens the page to the network)")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@db_option
@click.option("--max-upload-mb", default=DEFAULT_MAX_UPLOAD_MB, show_default=True, type=click.IntRange(min=1),
              help="largest file a planner may upload, in MB")
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(min=1),
              help="solves at once; more wait in the queue")
def serve(host: str, port: int, db: str | None, max_upload_mb: int, workers: int) -> None:
    """The planners' what-if page: data, scenario, runs, results, comparison, sweeps, approval."""
    check_address(host, port)
    with RunStore.open(db) as store:  # a store that cannot be used is exit 2 now, not an error page later
        url = store.url
    env = {**os.environ, ENV_HOME: os.getcwd(), ENV_MAX_UPLOAD: str(max_upload_mb), ENV_WORKERS: str(workers)}
    if db:
        env[ENV_DB] = db
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"wfplan serve: http://{shown}:{port} (plans under {Path.cwd() / 'runs'}, runs recorded in {url}; "
               "Ctrl-C stops)", err=True)
    command = streamlit_command(host, port, max_upload_mb)
    os.execve(command[0], command, env)
