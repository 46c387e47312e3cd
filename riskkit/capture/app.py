"""`riskkit capture`: the capture notebook served as a Voilà app on 127.0.0.1, with a link for the DPO (the district)
and one per school (that school only, access.py), no code shown or run from a browser, idle kernels culled and
nothing loaded from other hosts (own template, riskkit/capture/templates/voila)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from ..model.district import read_district
from ..model.errors import RiskkitError
from ..model.i18n import label
from ..notebooks import CAPTURE, notebook_path
from ..reports.transport import IPC
from . import access

TEMPLATE = "riskkit-capture"
IDENTITY = "riskkit.capture.login.TokenOnlyIdentityProvider"  # no login form: a short page without the token
KERNEL_MANAGER = "riskkit.capture.kernels.CaptureKernelManager"  # widget messages only, none dropped
CONFIG = "c.VoilaConfiguration.prelaunch_hook = __import__('riskkit.capture.access').capture.access.prelaunch\n"
LINKS = "capture-links.csv"  # beside the key, in the district's .riskkit folder
DEFAULT_PORT = 8866
DEFAULT_IDLE_SECONDS = 600
DISTRICT_ENV = "RISKKIT_DISTRICT"  # read by notebooks/capture.ipynb
START_TIMEOUT = 120
NOTARY_DB, NOTARY_SECRET = "nbsignatures.db", "notebook_secret"


def template_root() -> Path:
    """The Jupyter data folder holding `voila/templates/riskkit-capture` (put on JUPYTER_PATH)."""
    return Path(str(resources.files("riskkit.capture") / "templates"))


def voila_command(notebook: Path, port: int, idle_seconds: int, private: Path, lang: str = "de") -> list[str]:
    """The Voilà command line: local only, fixed port, own template, no tracebacks, idle kernels culled, kernels on
    IPC where the platform has it, the page in the district's language. It holds no secret (any local user can read
    it with `ps`): Voilà reads the token from the file named by JUPYTER_TOKEN_FILE (see `token_file`). The notebook's
    trust is checked against a signature store in the `private` folder (see `trust`), and Voilà's only config file
    is `private/voila.py` (the prelaunch hook, see `access.prelaunch`), not the user's Jupyter folders."""
    return [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        "--Voila.auto_token=True",
        f"--Voila.identity_provider_class={IDENTITY}",
        f"--NotebookNotary.db_file={private / NOTARY_DB}",
        f"--NotebookNotary.secret_file={private / NOTARY_SECRET}",
        f"--Voila.config_file_paths={private}",
        f"--HTMLExporter.language_code={lang}",
        *(["--KernelManager.transport=ipc"] if IPC else []),
        f"--VoilaConfiguration.multi_kernel_manager_class={KERNEL_MANAGER}",
        f"--VoilaConfiguration.template={TEMPLATE}",
        "--VoilaConfiguration.show_tracebacks=False",
        # A closed tab leaves its kernel behind; cull it once it has been idle and disconnected this long.
        f"--MappingKernelManager.cull_idle_timeout={idle_seconds}",
        f"--MappingKernelManager.cull_interval={max(1, min(60, idle_seconds // 2))}",
        "--MappingKernelManager.cull_connected=False",
    ]


def token_file(folder: Path, token: str) -> Path:
    """Write the token to `folder/token` readable by this user only (0600; `folder` should be private too)."""
    path = Path(folder) / "token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(token)
    return path


def trust(notebook: Path, private: Path) -> None:
    """Sign the shipped notebook in a signature store of the `private` folder, so Voilà finds it trusted and does
    not warn users that it is not (it is riskkit's own notebook)."""
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary(db_file=str(private / NOTARY_DB), secret_file=str(private / NOTARY_SECRET))
    notary.sign(nbformat.read(notebook, as_version=4))
    notary.close()


def check_port_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise RiskkitError(f"port {port} on 127.0.0.1 is in use; choose another with --port") from None


def serve(district_dir: Path, port: int = DEFAULT_PORT, idle_seconds: int = DEFAULT_IDLE_SECONDS,
          echo: Callable[[str], None] = print, log: Path | None = None, new_links: bool = False) -> int:
    """Run the app until Ctrl-C (or SIGTERM); prints the DPO's link once the server answers and writes the schools'
    links to a file beside the key (`new_links`: a new key first, which revokes every earlier link).

    The terminal shows only riskkit's own lines, in the district's language; Voilà's messages go to `log` (appended)
    or nowhere."""
    district, _ = read_district(district_dir)  # fail here, in words, if the district itself is broken
    notebook = notebook_path(CAPTURE)
    check_port_free(port)
    key = access.key(district_dir, new=new_links)
    token = access.token(key, access.DISTRICT)
    private = Path(tempfile.mkdtemp(prefix="riskkit-capture-"))  # 0700: only this user can enter it
    (private / "voila.py").write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        DISTRICT_ENV: str(Path(district_dir).resolve()),
        access.KEY_ENV: str(key.resolve()),
        "JUPYTER_PATH": os.pathsep.join(p for p in (str(template_root()), os.environ.get("JUPYTER_PATH")) if p),
        "JUPYTER_TOKEN_FILE": str(token_file(private, token)),
    }
    env.pop("JUPYTER_TOKEN", None)  # it would win over the file
    trust(notebook, private)
    lang = district.config.language
    output = open(log, "a", encoding="utf-8") if log else subprocess.DEVNULL  # closed in `finally`
    server = subprocess.Popen(voila_command(notebook, port, idle_seconds, private, lang), env=env, cwd=notebook.parent,
                              stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # stop Voilà too when we are told to stop
        signal.signal(stop_signal, _exit)
    try:
        _wait_until_listening(server, port, log)
        base = f"http://127.0.0.1:{port}"
        names = {school_id: a.school.name for school_id, a in district.schools.items()}
        links = key.with_name(LINKS)
        count = access.write_links(links, key, district_dir, names, base)  # before the links are told
        echo(f"{district.config.name}: {base}/?token={token}")
        echo(label("capture.school_links", lang).format(count=count, file=links))
        echo(label("capture.stop_hint", lang))
        return server.wait()
    except KeyboardInterrupt:
        echo(label("capture.stopping", lang))
        return 0
    finally:
        _stop(server)
        if log:
            output.close()
        shutil.rmtree(private, ignore_errors=True)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _wait_until_listening(server: subprocess.Popen, port: int, log: Path | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            if log:
                raise RiskkitError(f"Voilà stopped with exit code {server.returncode} before serving (its messages: {log})")
            raise RiskkitError(f"Voilà stopped with exit code {server.returncode} before serving (start again with --log"
                               " FILE to keep its messages)")
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
