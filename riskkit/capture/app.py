"""`riskkit capture`: the capture notebook served as a Voilà app on 127.0.0.1, with a token, no code shown, idle
kernels culled and nothing loaded from other hosts (own template, riskkit/capture/templates/voila)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..model.district import read_district
from ..model.errors import RiskkitError
from ..notebooks import CAPTURE, notebook_path

TEMPLATE = "riskkit-capture"
DEFAULT_PORT = 8866
DEFAULT_IDLE_SECONDS = 600
DISTRICT_ENV = "RISKKIT_DISTRICT"  # read by notebooks/capture.ipynb
START_TIMEOUT = 120


def template_root() -> Path:
    """The Jupyter data folder holding `voila/templates/riskkit-capture` (put on JUPYTER_PATH)."""
    return Path(str(resources.files("riskkit.capture") / "templates"))


def voila_command(notebook: Path, port: int, token: str, idle_seconds: int) -> list[str]:
    """The Voilà command line: local only, fixed port, token, own template, no tracebacks, idle kernels culled."""
    return [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.token={token}",
        f"--VoilaConfiguration.template={TEMPLATE}",
        "--VoilaConfiguration.show_tracebacks=False",
        # A closed tab leaves its kernel behind; cull it once it has been idle and disconnected this long.
        f"--MappingKernelManager.cull_idle_timeout={idle_seconds}",
        f"--MappingKernelManager.cull_interval={max(1, min(60, idle_seconds // 2))}",
        "--MappingKernelManager.cull_connected=False",
    ]


def check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise RiskkitError(f"port {port} on 127.0.0.1 is in use; choose another with --port") from None


def serve(district_dir: Path, port: int = DEFAULT_PORT, idle_seconds: int = DEFAULT_IDLE_SECONDS,
          echo: Callable[[str], None] = print) -> int:
    """Run the app until Ctrl-C (or SIGTERM); prints the URL with its token once the server answers."""
    district, _ = read_district(district_dir)  # fail here, in words, if the district itself is broken
    notebook = notebook_path(CAPTURE)
    check_port_free(port)
    token = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        DISTRICT_ENV: str(Path(district_dir).resolve()),
        "JUPYTER_PATH": os.pathsep.join(p for p in (str(template_root()), os.environ.get("JUPYTER_PATH")) if p),
    }
    server = subprocess.Popen(voila_command(notebook, port, token, idle_seconds), env=env, cwd=notebook.parent)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # stop Voilà too when we are told to stop
        signal.signal(stop_signal, _exit)
    try:
        _wait_until_listening(server, port)
        echo(f"{district.config.name}: http://127.0.0.1:{port}/?token={token}")
        echo("Stop with Ctrl-C.")
        return server.wait()
    except KeyboardInterrupt:
        echo("stopping ...")
        return 0
    finally:
        _stop(server)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _wait_until_listening(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RiskkitError(f"Voilà stopped with exit code {server.returncode} before serving (see its messages above)")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RiskkitError(f"Voilà did not answer on port {port} within {START_TIMEOUT} s")


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM lets Voilà shut its kernels down; kill only if it hangs."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
