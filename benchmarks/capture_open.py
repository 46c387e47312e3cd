"""Opening a school in `riskkit capture`: the app's kernel manager (IOPub queues without a limit) against Voilà's
default manager (ZeroMQ's 1,000-message queues), interleaved, same machine, same district.

For each start: the page is loaded, the school chosen and opened (Öffnen), and the time until the form shows "Geladen: …" and the
summary table is measured; the browser console's "widget model not found" errors are counted (a widget whose
message was dropped), and a form that has not appeared after 60 s counts as failed.

Run: .venv/bin/python benchmarks/capture_open.py [rounds]   (needs /usr/bin/chromium)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VARIANTS = {
    "riskkit's manager": "riskkit.capture.kernels.CaptureKernelManager",
    "Voilà's default": "jupyter_server.services.kernels.kernelmanager.AsyncMappingKernelManager",
}
SCHOOL = "Grundschule Kleeblatt Birkenfeld (gs-kleeblatt)"


def start(district_dir: Path, manager: str) -> tuple[subprocess.Popen, str]:
    """`riskkit capture` with `manager` as Voilà's kernel manager; the process and its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = ("import sys, riskkit.capture.app as app; app.KERNEL_MANAGER = sys.argv[1]; from riskkit.cli import main; "
            "main(sys.argv[2:])")
    server = subprocess.Popen([sys.executable, "-c", code, manager, "capture", str(district_dir), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    line = ""
    while "token=" not in line:
        line = server.stdout.readline()
        if not line and server.poll() is not None:
            raise SystemExit("riskkit capture did not start")
    return server, line.split(": ", 1)[1].strip()


def open_school(browser, url: str) -> tuple[float | None, int]:
    """Seconds from choosing the school until its form is shown (None: not within 60 s), and console errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if "widget model not found" in m.text else None)
    page.goto(url)
    page.wait_for_selector(".rk-school-menu select", timeout=120_000)
    started = time.perf_counter()
    page.select_option(".rk-school-menu select", label=SCHOOL)
    page.get_by_role("button", name="Öffnen", exact=True).click()
    try:
        page.get_by_text("Geladen: gs-kleeblatt.yaml").wait_for(timeout=60_000)
        page.wait_for_selector(".rk-summary table", timeout=60_000)
        seconds = time.perf_counter() - started
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: the form did not appear
        seconds = None
    page.close()
    return seconds, len(errors)


def main(rounds: int) -> None:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[tuple[float | None, int]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        district_dir = Path(tmp) / "sample-district"
        shutil.copytree(REPO / "data" / "sample-district", district_dir)
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(rounds):
            for name, manager in VARIANTS.items():
                server, url = start(district_dir, manager)
                try:
                    results[name].append(open_school(browser, url))
                finally:
                    os.killpg(server.pid, signal.SIGINT)
                    server.wait(timeout=30)
        browser.close()
    for name, runs in results.items():
        shown = [s for s, _ in runs if s is not None]
        median = f"{statistics.median(shown):5.1f} s" if shown else "    -  "
        print(f"{name:<18} form shown {len(shown)}/{len(runs)}   median {median}   "
              f"'widget model not found' errors {sum(e for _, e in runs)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
