"""Upstream funz-fz 1.2's public names in our module: console entry points
(fz.cli.*_main, python -m fz / fz.cli), fz.config, fz.logging.LogLevel,
check_bash_availability_on_windows, the version, what dir(fz) shows, and
the commands' text reaching a replaced sys.stdout/sys.stderr."""

import contextlib
import io
import json
import subprocess
import sys

import pytest

import fz
import fz.cli
import fz.config
import fz.logging
from conftest import MODEL


def call(entry, argv, monkeypatch):
    """Runs fz.cli.<entry>() with sys.argv, stdout and stderr replaced, as upstream's tests do."""
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "argv", [entry] + argv)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = getattr(fz.cli, entry)()
    return code, out.getvalue(), err.getvalue()


def test_entry_points_read_sys_argv_return_the_status_and_write_to_sys_stdout(project, monkeypatch):
    code, out, _ = call("fzi_main", ["input.txt", "--model", json.dumps(MODEL), "--format", "json"], monkeypatch)
    assert code == 0
    assert set(json.loads(out)) == {"temp", "pressure"}
    code, out, _ = call(
        "fzr_main",
        ["input.txt", "-m", json.dumps(MODEL), "-v", '{"temp": [2, 3]}', "-c", "sh://bash calc.sh",
         "-r", "res", "--format", "json"],
        monkeypatch,
    )
    assert code == 0
    assert [row["result"] for row in json.loads(out)] == [2, 3]
    code, out, err = call("fzo_main", ["no/such/dir", "-m", json.dumps(MODEL)], monkeypatch)
    assert code == 1 and out == ""
    assert "no/such/dir" in err


def test_main_is_the_fz_command_whatever_argv0(project, monkeypatch):
    code, out, _ = call("main", ["--version"], monkeypatch)
    assert (code, out) == (0, f"fz {fz.__version__} (funz-fz 1.2 compatible)\n")
    code, out, _ = call("fzc_main", ["--version"], monkeypatch)
    assert out.startswith("fzc ")
    code, _, err = call("main", ["no-such-subcommand"], monkeypatch)
    assert code == 2 and "no-such-subcommand" in err


@pytest.mark.parametrize("module", ["fz", "fz.cli"])
def test_python_dash_m_runs_the_fz_command(project, module):
    done = subprocess.run(
        [sys.executable, "-m", module, "input", "input.txt", "-m", json.dumps(MODEL), "-f", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["temp"] is None
    bad = subprocess.run([sys.executable, "-m", module, "run"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr


def test_module_warnings_reach_a_replaced_sys_stderr(project, capsys):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        fz.fzr("input.txt", {"temp": [1], "tmp": 1}, MODEL, calculators="sh://bash calc.sh", results_dir="r")
    assert "input variable 'tmp' is not used by any input file" in err.getvalue()
    # pytest's capsys too, and nothing left on the real descriptors.
    fz.fzr("input.txt", {"temp": [2], "tmp": 1}, MODEL, calculators="sh://bash calc.sh", results_dir="r2")
    assert "input variable 'tmp' is not used" in capsys.readouterr().err


def test_log_level_takes_upstreams_loglevel_and_strings(project):
    fz.set_log_level(fz.logging.LogLevel.INFO)
    assert fz.get_log_level() == "INFO" == fz.logging.LogLevel.INFO
    fz.set_log_level("debug")
    assert fz.get_config().log_level == "DEBUG"
    assert fz.logging.LogLevel.DEBUG.value == 3 and fz.logging.LogLevel.QUIET.value == -1
    with pytest.raises(ValueError, match="NOISY"):
        fz.set_log_level("noisy")


def test_config_module_is_upstreams_settings_object(project):
    assert fz.config.config is fz.config.get_config() is fz.get_config()
    fz.config.config.max_retries = 7
    assert fz.config.Config().max_retries == 7
    fz.config.reload_config()
    assert fz.get_config().max_retries == 5


def test_check_bash_is_a_no_op_on_unix():
    assert fz.check_bash_availability_on_windows() is None
    assert fz.check_bash_availability_on_windows(strict=False) is None


def test_version_and_namespace():
    assert fz.__version__ == "0.2.0"
    assert fz.__funz_fz_version__ == "1.2"
    public = {n for n in dir(fz) if not n.startswith("_")}
    for helper in ("Any", "Dict", "List", "Optional", "Union", "json", "os", "sys"):
        assert helper not in public
    for name in ("fzi", "fzc", "fzo", "fzr", "fzd", "fzl", "install", "list_models", "get_config",
                 "set_log_level", "check_bash_availability_on_windows", "FunctionModelParallelError"):
        assert name in public


def test_discover_funz_servers_lists_announcements_and_stops_when_asked():
    import socket
    import threading
    import time

    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    def announce():
        time.sleep(0.3)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for name, tcp, activity in [("calc1", 5555, "idle"), ("calc2", 5556, "running R"), ("calc1", 5555, "idle")]:
            s.sendto(f"{name}\n{tcp}\n0\nLinux 6.1\n{activity}\n1\nR\n".encode(), ("127.0.0.1", port))
        s.close()

    t = threading.Thread(target=announce)
    t.start()
    servers = fz.discover_funz_servers(udp_port=port, listen_duration=1.5)
    t.join()
    assert servers == [
        {"host": "127.0.0.1", "tcp_port": 5555, "name": "calc1", "os": "Linux 6.1",
         "activity": "idle", "idle": True, "codes": ["R"]},
        {"host": "127.0.0.1", "tcp_port": 5556, "name": "calc2", "os": "Linux 6.1",
         "activity": "running R", "idle": False, "codes": ["R"]},
    ]
    t = threading.Thread(target=announce)
    t.start()
    started = time.monotonic()
    seen = fz.discover_funz_servers(port, 30, stop_when=lambda s: s["idle"])
    t.join()
    assert [s["name"] for s in seen] == ["calc1"] and time.monotonic() - started < 10

    def boom(server):
        raise RuntimeError("from stop_when")

    t = threading.Thread(target=announce)
    t.start()
    with pytest.raises(RuntimeError, match="from stop_when"):
        fz.discover_funz_servers(port, 30, stop_when=boom)
    t.join()
    with pytest.raises(ValueError, match="udp_port must be between 1 and 65535"):
        fz.discover_funz_servers(70000, 1)
