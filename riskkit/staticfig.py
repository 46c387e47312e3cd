"""Static SVG of plotly figures through kaleido, with a helper browser that contacts no host.

Kaleido drives a headless Chromium. Its page would load MathJax from a CDN and the browser does background lookups
of Google hosts; we start kaleido's server once per process with MathJax off and point it (BROWSER_PATH) at a
wrapper script that adds Chromium's no-network switches.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import RiskkitError

if TYPE_CHECKING:
    import plotly.graph_objects as go

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_NETWORK_FLAGS = (
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pings",
    "--disable-domain-reliability", "--host-resolver-rules=MAP * ~NOTFOUND",
)
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`) or set BROWSER_PATH to a Chrome/Chromium"
)
_WRAPPER_MARK = "riskkit-offline-browser"
_started = False


class BrowserNotFoundError(RiskkitError):
    """No Chromium/Chrome to draw figures with."""

    exit_code = 3


def find_browser() -> Path:
    """The Chromium/Chrome kaleido should drive: BROWSER_PATH if set (and not our wrapper), else one on PATH."""
    given = os.environ.get("BROWSER_PATH")
    if given and _WRAPPER_MARK not in given:
        if Path(given).is_file() and os.access(given, os.X_OK):
            return Path(given)
        raise BrowserNotFoundError(f"BROWSER_PATH={given!r} is not an executable file; {INSTALL_HINT}")
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFoundError(f"no Chromium or Chrome found to draw the risk matrix; {INSTALL_HINT}")


def offline_browser(browser: Path) -> Path:
    """A wrapper script (in a temp dir removed at exit) that starts `browser` with the no-network switches."""
    folder = Path(tempfile.mkdtemp(prefix=f"{_WRAPPER_MARK}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    script = folder / "chromium"
    flags = " ".join(f"'{flag}'" for flag in NO_NETWORK_FLAGS)
    script.write_text(f'#!/bin/sh\nexec \'{browser}\' {flags} "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return script


def start() -> None:
    """Start kaleido's sync server once in this process, offline and with MathJax off."""
    global _started
    if _started:
        return
    import kaleido

    os.environ["BROWSER_PATH"] = str(offline_browser(find_browser()))
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    atexit.register(kaleido.stop_sync_server, silence_warnings=True)
    _started = True


def figure_svg(fig: go.Figure) -> str:
    """The figure as SVG text (its layout width/height, scale 1)."""
    import kaleido

    start()
    opts = dict(format="svg", width=fig.layout.width or 700, height=fig.layout.height or 500, scale=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svg = kaleido.calc_fig_sync(fig.to_dict(), opts=opts)
    return svg.decode("utf-8") if isinstance(svg, bytes) else svg
