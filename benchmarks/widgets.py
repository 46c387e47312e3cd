"""Capture form latency: opening the link, opening a school, switching the language, and one edit until the matrix
and summary are updated.

1. In Python: opening a school, the form's handler for a likelihood change, a ticked measure and a keystroke in a
   reason (median of many edits; widgets without a kernel, so no messages are sent).
2. In a browser (if /usr/bin/chromium exists): `riskkit capture` on a copy of the sample district; from the link to a
   usable school menu, from pressing Open to the school's status line and matrix shown, from pressing a language to
   the status line in it, from opening the risk step and a panel to its first risk shown, and from clicking a
   likelihood or a measure until plotly has redrawn the markers and the frame is painted, measured in the page
   (through Voilà and the kernel, one edit every ~0.3 s).

Run: .venv/bin/python benchmarks/widgets.py
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
IT = "risks.identity-theft"


def python_side(district_dir: Path) -> None:
    from riskkit.capture.form import capture_form

    started = time.perf_counter()
    form = capture_form(district_dir)
    built = time.perf_counter() - started
    started = time.perf_counter()
    form.open("gs-kleeblatt")
    opened = time.perf_counter() - started
    started = time.perf_counter()
    form.unfold(f"{IT}.likelihood")
    unfolded = time.perf_counter() - started
    print(f"form built in {built * 1000:.0f} ms; school opened in {opened * 1000:.0f} ms; "
          f"risk step and a panel opened in {unfolded * 1000:.0f} ms")

    def timed(edits) -> list[float]:
        times = []
        for edit in edits:
            started = time.perf_counter()
            edit()
            times.append((time.perf_counter() - started) * 1000)
        return times

    likelihood = form.inputs[f"{IT}.likelihood"]
    box = form.inputs[f"{IT}.measures_in_place.log-evaluation"]
    reason = form.inputs[f"{IT}.reason"]
    cases = {
        "likelihood changed": [lambda v=v: setattr(likelihood, "value", v) for v in [4, 1, 3, 2] * 25],
        "measure ticked/unticked": [lambda v=v: setattr(box, "value", v) for v in [True, False] * 50],
        "keystroke in a reason": [lambda i=i: setattr(reason, "value", reason.value + "x") for i in range(100)],
    }
    for name, edits in cases.items():
        times = timed(edits)
        print(f"{name:<26} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms   (n={len(times)})")


def browser_side(district_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    riskkit = Path(sys.executable).parent / "riskkit"
    server = subprocess.Popen([str(riskkit), "capture", str(district_dir), "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        line = ""
        while "token=" not in line:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                raise SystemExit("riskkit capture did not start")
        url = line.split(": ", 1)[1].strip()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                page.goto(url)
                page.wait_for_selector(".rk-school-menu select", timeout=120_000)
                loads.append(time.perf_counter() - started)
            print(f"link -> school menu usable: {', '.join(f'{t:.1f}' for t in loads)} s")

            def timed(action, done: str) -> float:
                started = time.perf_counter()
                action()
                page.get_by_text(done).wait_for(timeout=120_000)
                return time.perf_counter() - started

            def open_school(label: str) -> None:
                page.select_option(".rk-school-menu select", label=label)
                page.get_by_role("button", name="Öffnen", exact=True).click()

            schools = [("Grundschule Kleeblatt Birkenfeld (gs-kleeblatt)", "Geladen: gs-kleeblatt.yaml"),
                       ("Oberschule Wiesental (obs-wiesental)", "Geladen: obs-wiesental.yaml")] * 3
            opens = [timed(lambda label=label: open_school(label), done) for label, done in schools]
            page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=120_000)  # the matrix is drawn
            print(f"Open -> school shown: median {statistics.median(opens):.2f} s, max {max(opens):.2f} s "
                  f"(n={len(opens)})")
            switches = [timed(lambda name=name: page.get_by_role("button", name=name, exact=True).click(), done)
                        for name, done in [("English", "Loaded: obs-wiesental.yaml"),
                                           ("Deutsch", "Geladen: obs-wiesental.yaml")] * 3]
            print(f"language switch -> status line in it: median {statistics.median(switches):.2f} s, "
                  f"max {max(switches):.2f} s (n={len(switches)})")
            open_school("Grundschule Kleeblatt Birkenfeld (gs-kleeblatt)")
            page.get_by_text("Geladen: gs-kleeblatt.yaml").wait_for(timeout=120_000)
            started = time.perf_counter()
            page.get_by_role("button", name="3. Risiken und Maßnahmen").click()
            page.get_by_role("button", name="Benutzerkonten (7 Risiken, 0 offen)").click()
            page.wait_for_selector(".rk-risks-identity-theft-likelihood input[type=radio]", timeout=120_000)
            print(f"risk step and a panel opened -> first risk shown: {time.perf_counter() - started:.2f} s")
            # One edit: click an input, then wait until plotly has redrawn the markers (the SVG of the scatter
            # layer changed) and the browser has painted that frame.
            edit = """async ([selector, index]) => {
                const layer = () => document.querySelector('.js-plotly-plot .scatterlayer').innerHTML;
                const before = layer();
                const t0 = performance.now();
                document.querySelectorAll(selector)[index].click();
                while (layer() === before) {
                    if (performance.now() - t0 > 5000) throw new Error('matrix not redrawn within 5 s');
                    await new Promise(r => requestAnimationFrame(r));
                }
                await new Promise(r => setTimeout(r, 0));  // seen in a frame callback: runs once that frame is painted
                const t = performance.now() - t0;
                await new Promise(r => setTimeout(r, 300));  // a person's pace: the next edit starts on a quiet page
                return t;
            }"""
            radios = ".rk-risks-identity-theft-likelihood input[type=radio]"
            box = ".rk-risks-identity-theft-measures-in-place-log-evaluation input[type=checkbox]"
            cases = {
                "likelihood clicked": [(radios, level) for level in [4, 1, 3, 2] * 10],
                "measure ticked/unticked": [(box, 0)] * 40,
            }
            for name, clicks in cases.items():
                times = [page.evaluate(edit, list(click)) for click in clicks]
                print(f"{name:<26} median {statistics.median(times):6.1f} ms   "
                      f"p90 {statistics.quantiles(times, n=10)[-1]:6.1f} ms   max {max(times):6.1f} ms   "
                      f"(n={len(times)}, click -> matrix redrawn and painted, through the kernel)")
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        district_dir = Path(tmp) / "sample-district"
        shutil.copytree(REPO / "data" / "sample-district", district_dir)
        python_side(district_dir)
        if Path("/usr/bin/chromium").exists():
            browser_side(district_dir)
        else:
            print("no /usr/bin/chromium: browser figures skipped")


if __name__ == "__main__":
    main()
