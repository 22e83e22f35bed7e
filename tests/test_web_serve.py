"""``wfplan serve`` refuses what it cannot serve with a message and exit 2, before starting anything."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from optimizer.cli import main
from web.serve import APP, streamlit_command


def test_a_port_in_use_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use; choose another --port" in result.output


def test_bad_options_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    unknown = runner.invoke(main, ["serve", "--host", "no-such-host.invalid"])
    assert unknown.exit_code == 2 and "--host no-such-host.invalid: not an address of this machine" in unknown.output
    limit = runner.invoke(main, ["serve", "--max-upload-mb", "0"])
    assert limit.exit_code == 2 and "Invalid value for '--max-upload-mb'" in limit.output
    store = runner.invoke(main, ["serve", "--db", "mysql://x@127.0.0.1/db"])
    assert store.exit_code == 2 and "unsupported database 'mysql'" in store.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_server_binds_where_asked_with_the_upload_cap() -> None:
    command = streamlit_command("127.0.0.1", 8600, 5)
    assert command[1:5] == ["-m", "streamlit", "run", str(APP)]
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.address"] == "127.0.0.1" and options["--server.port"] == "8600"
    assert options["--server.maxUploadSize"] == "5" and options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
