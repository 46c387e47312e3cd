"""The capture form in a real browser (a full Chromium via Playwright, else the one riskkit finds: conftest.chromium): in
JupyterLab running capture.ipynb and as the Voilà app `riskkit capture`. Servers run on free localhost ports and are always stopped; screenshots of the
final states stay in the pytest tmp dir."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import pytest
import yaml
from playwright.sync_api import Page, expect, sync_playwright

from conftest import axe_violations

REPO = Path(__file__).resolve().parent.parent
RISKKIT = Path(sys.executable).parent / "riskkit"
START_TIMEOUT = 120

expect.set_options(timeout=60_000)  # the first render of a school takes seconds on a busy 2-core machine

INHERENT, RESIDUAL = "Ausgangsrisiko (vor Maßnahmen)", "Restrisiko (nach Maßnahmen)"
IT = ".rk-risks-identity-theft"
KLEEBLATT = "Grundschule Kleeblatt Birkenfeld (gs-kleeblatt)"
RISKS, ACCOUNTS = "3. Risiken und Maßnahmen", "Benutzerkonten (7 Risiken, 0 offen)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    """Signal the server's process group, then kill it if it does not end."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kernels(process: subprocess.Popen) -> list[psutil.Process]:
    return [p for p in psutil.Process(process.pid).children(recursive=True)
            if "ipykernel_launcher" in " ".join(p.cmdline())]


@pytest.fixture(scope="module")
def browser(chromium):
    """A full Chromium, the browser school staff use (riskkit prints its reports with the headless shell if there)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or chromium,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def start_capture(district_dir: Path, tmp_path: Path, idle: int = 600) -> tuple[subprocess.Popen, str]:
    """`riskkit capture` as a user runs it (Voilà's messages kept in voila.log, riskkit's stderr in stderr.log);
    returns the process and the URL it printed."""
    port = free_port()
    log = (tmp_path / "stderr.log").open("w")
    process = subprocess.Popen([str(RISKKIT), "capture", str(district_dir), "--port", str(port), "--idle-timeout",
                                str(idle), "--log", str(tmp_path / "voila.log")],
                               stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT
    line = ""
    while time.monotonic() < deadline and "token=" not in line:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
    if "token=" not in line:
        stop(process, signal.SIGKILL)
        logs = [(tmp_path / name).read_text() for name in ("stderr.log", "voila.log") if (tmp_path / name).exists()]
        pytest.fail(f"riskkit capture printed no URL; logs: {logs}")
    return process, line.split(": ", 1)[1].strip()


@pytest.fixture
def voila(district_dir: Path, tmp_path: Path):
    process, url = start_capture(district_dir, tmp_path)
    yield url
    stop(process)


@pytest.fixture
def lab(district_dir: Path, tmp_path: Path):
    """JupyterLab on a copy of capture.ipynb; the kernel gets the tmp district through RISKKIT_DISTRICT."""
    root, config = tmp_path / "lab", tmp_path / "jupyter-config"
    root.mkdir()
    shutil.copy(REPO / "notebooks" / "capture.ipynb", root)
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": {
        "@jupyterlab/apputils-extension:announcements": True, "@jupyterlab/extensionmanager-extension": True}}))
    port, token = free_port(), "riskkit-test-token"
    env = {**os.environ, "RISKKIT_DISTRICT": str(district_dir), "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces")}
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}/lab/tree/capture.ipynb?token={token}"
    finally:
        stop(process)


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"server on port {port} did not start")


def marker(page: Page, trace: str, number: str) -> tuple[int, int] | None:
    """The matrix cell (likelihood, severity) where the chart in the page has drawn a risk's marker: read from the
    SVG (the marker's label), not from plotly's data, so a move that is not redrawn counts as not moved."""
    xy = page.evaluate(
        """([name, number]) => {
            const plot = document.querySelector('.js-plotly-plot');
            const index = (plot?.data || []).findIndex(t => t.name === name);
            const group = index < 0 ? null : plot.querySelectorAll('.scatterlayer .trace')[index];
            const label = Array.from(group?.querySelectorAll('.textpoint text') || []).find(t => t.textContent === number);
            if (!label) return null;
            const layout = plot._fullLayout;
            return [layout.xaxis.p2c(+label.getAttribute('x')), layout.yaxis.p2c(+label.getAttribute('y'))];
        }""", [trace, number])
    return None if xy is None else (round(xy[0]), round(xy[1]))


def cells_drawn(page: Page) -> int:
    """How many filled areas (the matrix's coloured cells, one per risk level) the chart has drawn."""
    return page.locator(".js-plotly-plot .scatterlayer path.js-fill").count()


def wait_for_marker(page: Page, trace: str, number: str, cell: tuple[int, int]) -> None:
    deadline = time.monotonic() + 30
    while marker(page, trace, number) != cell:
        if time.monotonic() > deadline:
            pytest.fail(f"{number} {trace} stayed at {marker(page, trace, number)}, expected {cell}")
        page.wait_for_timeout(100)


def open_school(page: Page, school: str, button: str = "Öffnen") -> None:
    """Choose a school in the menu and press the button that opens it (choosing alone opens nothing)."""
    page.select_option(".rk-school-menu select", label=school)
    page.get_by_role("button", name=button, exact=True).click()


def unfold(page: Page, *titles: str) -> None:
    """Open the disclosure headings with these titles, one after the other."""
    for title in titles:
        button = page.get_by_role("button", name=title, exact=True)
        if button.get_attribute("aria-expanded") != "true":
            button.click()
        expect(button).to_have_attribute("aria-expanded", "true")


def edit_and_save(page: Page, district_dir: Path, shots: Path, name: str) -> None:
    """What a school head does: pick the school, change a likelihood, tick a measure, save; then the conflict case."""
    school_file = district_dir / "schools" / "gs-kleeblatt.yaml"
    open_school(page, KLEEBLATT)
    expect(page.get_by_text("Geladen: gs-kleeblatt.yaml")).to_be_visible()
    wait_for_marker(page, INHERENT, "R2", (2, 3))
    wait_for_marker(page, RESIDUAL, "R2", (1, 3))

    unfold(page, RISKS, ACCOUNTS)
    page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^4 groß")).check()
    wait_for_marker(page, INHERENT, "R2", (4, 3))
    wait_for_marker(page, RESIDUAL, "R2", (2, 3))
    matrix = page.locator(".rk-live-matrix")  # named, with every marker in words, and no plotly tool bar
    expect(matrix).to_have_attribute("role", "figure")
    expect(matrix).to_have_attribute("aria-label", "Risikomatrix: jedes bewertete Risiko vor und nach den Maßnahmen")
    expect(matrix.locator("li").filter(has_text=re.compile(
        r"^R2: Identitätsdiebstahl, Ausgangsrisiko \(vor Maßnahmen\): hohes Risiko, Eintrittswahrscheinlichkeit 4, "
        r"Schwere 3$"))).to_have_count(1)
    assert page.locator(".js-plotly-plot .modebar-btn").count() == 0
    expect(page.get_by_text("● Ungespeicherte Änderungen")).to_be_visible()
    page.locator(IT + "-measures-in-place-log-evaluation input[type=checkbox]").check()
    wait_for_marker(page, RESIDUAL, "R2", (2, 2))
    assert cells_drawn(page) == 3  # the markers moved without losing the cells under them
    expect(page.locator(".rk-risk-identity-theft")).to_contain_text(
        "Ausgangsrisiko: hohes Risiko (Wahrscheinlichkeit 4, Schwere 3) → "
        "Restrisiko: geringes Risiko (Wahrscheinlichkeit 2, Schwere 2)")
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_text("Gespeichert: gs-kleeblatt.yaml")).to_be_visible()
    expect(page.get_by_text("✓ Keine ungespeicherten Änderungen")).to_be_visible()
    saved = yaml.safe_load(school_file.read_text(encoding="utf-8"))["risks"]["identity-theft"]
    assert saved == {
        "likelihood": 4,
        "reason": "Die Kinder arbeiten an gemeinsamen Schul-Tablets, auf denen Anmeldungen gelegentlich offen bleiben.",
        "measures_in_place": ["usage-rules", "admin-obligation", "log-evaluation"],
    }
    page.screenshot(path=shots / f"{name}-saved.png")

    # someone else saves the same field meanwhile: Save shows both values to choose from
    page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^3 substanziell")).check()
    expect(page.get_by_text("● Ungespeicherte Änderungen")).to_be_visible()
    theirs = yaml.safe_load(school_file.read_text(encoding="utf-8"))
    theirs["risks"]["identity-theft"]["likelihood"] = 1
    school_file.write_text(yaml.safe_dump(theirs, allow_unicode=True, sort_keys=False), encoding="utf-8")
    on_disk = school_file.read_bytes()
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_text("Ihr Wert „3“, gespeichert „1“")).to_be_visible()
    assert school_file.read_bytes() == on_disk
    page.set_viewport_size({"width": 1400, "height": 2000})
    page.screenshot(path=shots / f"{name}-conflict.png")
    page.get_by_role("button", name="Gespeicherte Werte übernehmen und speichern").click()
    expect(page.get_by_text("Gespeichert: gs-kleeblatt.yaml – zusammengeführt")).to_be_visible()
    expect(page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^1 geringfügig"))).to_be_checked()
    wait_for_marker(page, INHERENT, "R2", (1, 3))
    page.screenshot(path=shots / f"{name}-final.png")
    assert yaml.safe_load(school_file.read_text(encoding="utf-8"))["risks"]["identity-theft"]["likelihood"] == 1


def test_voila_app(voila, page, district_dir, tmp_path):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(voila)
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    assert "capture_form(" not in page.content()  # no code shown
    assert page.locator(".jp-InputArea-editor").count() == 0
    edit_and_save(page, district_dir, tmp_path, "voila")
    host = urlsplit(voila).netloc
    assert requests and {urlsplit(u).netloc for u in requests if not u.startswith(("data:", "blob:"))} == {host}
    print(f"screenshots: {tmp_path}")


def test_axe_core_finds_what_it_should(page):
    """The check below can fail: a picture without a text alternative and grey-on-white text are found."""
    page.set_content('<html lang="de"><head><title>t</title></head><body><main><h1>t</h1><img src="data:,">'
                     '<p style="color:#aaa;background:#fff">blass</p></main></body></html>')
    assert {line.split(" ", 1)[0] for line in axe_violations(page)} == {"image-alt", "color-contrast"}


def test_the_app_passes_axe_core_in_every_state(voila, page, district_dir, tmp_path):
    """WCAG 2.1 A/AA (axe-core): the start, a school open with a panel open (desktop and phone width), a question
    asked, the form in English, a new school."""
    found = {}
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(voila)
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    found["start"] = axe_violations(page)
    open_school(page, KLEEBLATT)
    expect(page.get_by_text("Geladen: gs-kleeblatt.yaml")).to_be_visible()
    unfold(page, RISKS, ACCOUNTS)
    expect(page.locator(IT + "-likelihood")).to_be_visible()
    found["school"] = axe_violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    found["school, 390 px"] = axe_violations(page)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^4 groß")).check()
    expect(page.get_by_text("● Ungespeicherte Änderungen")).to_be_visible()
    open_school(page, "Oberschule Wiesental (obs-wiesental)")
    expect(page.get_by_role("button", name="Änderungen verwerfen")).to_be_visible()
    found["question"] = axe_violations(page)
    page.get_by_role("button", name="Änderungen verwerfen").click()
    expect(page.get_by_text("Geladen: obs-wiesental.yaml")).to_be_visible()
    page.get_by_role("button", name="English").click()
    expect(page.get_by_text("Loaded: obs-wiesental.yaml")).to_be_visible()
    expect(page.locator(".rk-summary table").first).to_be_visible()
    found["English"] = axe_violations(page)
    open_school(page, "+ add a new school", "Open")
    expect(page.get_by_text("New school: please fill in the details about the school first.")).to_be_visible()
    found["new school"] = axe_violations(page)
    expect(page.locator(".js-plotly-plot .scatterlayer path.js-fill")).to_have_count(3)  # a new school's matrix too
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("[role=status]")).to_contain_text("Not saved:")  # said by the live region
    school_id = page.locator(".rk-school-id input")
    expect(school_id).to_have_attribute("aria-invalid", "true")  # the problem is tied to its field
    described = school_id.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_contain_text("⚠")
    found["problems shown"] = axe_violations(page)
    page.screenshot(path=tmp_path / "axe-new-school.png")
    assert found == {state: [] for state in found}


def test_jupyterlab_notebook(lab, page, district_dir, tmp_path):
    page.goto(lab)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=START_TIMEOUT * 1000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget;
            const kernel = panel?.sessionContext?.session?.kernel;
            return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
        }""", timeout=START_TIMEOUT * 1000)
    page.get_by_role("menuitem", name="Run").click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    edit_and_save(page, district_dir, tmp_path, "lab")
    print(f"screenshots: {tmp_path}")


def test_token_culling_and_ctrl_c(district_dir, tmp_path, browser):
    process, url = start_capture(district_dir, tmp_path, idle=10)
    try:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1" and re.fullmatch(r"token=[\w-]{32}", parts.query)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", "/")
        response = connection.getresponse()
        assert response.status == 302 and "/login" in response.getheader("Location")  # no token, no app
        connection.close()

        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
        assert len(kernels(process)) == 1
        context.close()  # the tab is closed: its kernel must not stay
        deadline = time.monotonic() + 120
        while kernels(process) and time.monotonic() < deadline:
            time.sleep(1)
        assert kernels(process) == []
        assert "Culling 'idle' kernel" in (tmp_path / "voila.log").read_text()

        children = psutil.Process(process.pid).children(recursive=True)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        assert process.wait(timeout=30) == 0
        links = district_dir / ".riskkit" / "capture-links.csv"
        assert process.stdout.read() == (f"Links der 12 Schulen (jede öffnet nur ihre Schule): {links}\n"
                                         "Beenden mit Strg+C.\nwird beendet …\n")  # the district's language
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    finally:
        stop(process, signal.SIGKILL)


def test_no_token_on_any_command_line_kernels_on_ipc_and_no_warnings(district_dir, tmp_path):
    process, url = start_capture(district_dir, tmp_path)
    try:
        parts = urlsplit(url)
        token = parse_qs(parts.query)["token"][0]
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=START_TIMEOUT)
        connection.request("GET", f"/?{parts.query}")  # Voilà runs the notebook for this page: a kernel starts
        response = connection.getresponse()
        assert response.status == 200 and b"rk-" in response.read()
        connection.close()
        [kernel] = kernels(process)
        tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        assert [p.cmdline() for p in tree if token in " ".join(p.cmdline())] == []
        assert any("voila" in " ".join(p.cmdline()) for p in tree)
        command = kernel.cmdline()
        connection_file = Path(command[command.index("-f") + 1])
        assert json.loads(connection_file.read_text())["transport"] == "ipc"
        assert connection_file.stat().st_mode & 0o077 == 0
    finally:
        stop(process)
    log = (tmp_path / "voila.log").read_text()
    assert "Kernel started" in log
    assert "without encryption" not in log and "not trusted" not in log and token not in log


def test_voila_switching_a_module_off_and_saving(voila, page, district_dir, tmp_path):
    """The platform step in Chromium: a school switches video conferencing off; its risks leave the form and the
    matrix at once, the DSFA status follows, and Save writes the platform block without the module."""
    school_file = district_dir / "schools" / "gs-kleeblatt.yaml"
    page.goto(voila)
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    open_school(page, KLEEBLATT)
    expect(page.get_by_text("Geladen: gs-kleeblatt.yaml")).to_be_visible()
    r5 = page.locator(".rk-live-matrix li").filter(has_text=re.compile(r"^R5: "))  # the matrix's text alternative
    expect(r5).to_have_count(1)  # vc-recording is drawn
    expect(page.get_by_role("heading", name="1. Ihre Plattform")).to_be_visible()
    page.get_by_role("button", name="1. Ihre Plattform").press("Enter")  # a step opens from the keyboard
    expect(page.get_by_role("button", name="1. Ihre Plattform")).to_have_attribute("aria-expanded", "true")
    unfold(page, RISKS)
    expect(page.locator(".rk-dsfa-status")).to_contain_text("Stand der DSFA: Entwurf")

    video = page.get_by_role("checkbox", name="Videokonferenz", exact=True)
    expect(video).to_be_checked()
    expect(page.get_by_role("checkbox", name="Benutzerkonten (Pflichtmodul, immer an)")).to_be_disabled()
    video.uncheck()
    expect(page.get_by_text("Videokonferenz (0 Risiken, 0 offen, 4 nicht anwendbar)")).to_be_attached()
    expect(page.locator(".rk-risk-vc-recording")).to_be_hidden()
    expect(r5).to_have_count(0)  # and gone from the matrix
    expect(page.locator(".rk-summary")).to_contain_text("nicht anwendbar (Modul nicht genutzt)")
    expect(page.get_by_text("● Ungespeicherte Änderungen")).to_be_visible()
    page.get_by_role("button", name="Speichern", exact=True).click()
    expect(page.get_by_text("Gespeichert: gs-kleeblatt.yaml")).to_be_visible()
    saved = yaml.safe_load(school_file.read_text(encoding="utf-8"))
    assert list(saved["platform"]["modules"]) == ["accounts", "administration", "mail", "files", "add-ons"]
    page.screenshot(path=tmp_path / "voila-module-off.png", full_page=True)


FOCUSED = """() => {
    const el = document.activeElement;
    const style = el && getComputedStyle(el);
    return el && {tag: el.tagName.toLowerCase(), type: el.type || "", text: (el.textContent || "").trim(),
                  label: el.closest("label")?.textContent.trim() || "", classes: el.closest("[class*=rk-]")?.className || "",
                  outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
                  // the calendar button inside a date field is Chromium's own part, ringed by the form's CSS
                  calendar: el.type === "date" && !el.matches(":focus")};
}"""


def tab_to(page: Page, wanted, back: bool = False, limit: int = 200) -> dict:
    """Press Tab (Shift+Tab) until the focused element is `wanted` (a test of FOCUSED's description); each control
    on the way must show a focus ring of at least 2 px."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        focused = page.evaluate(FOCUSED)
        if focused and focused["tag"] != "body" and not focused["calendar"]:
            assert focused["outline"] >= 2, f"no visible focus on {focused}"
        if focused and wanted(focused):
            return focused
    pytest.fail(f"Tab never reached the control (last: {focused})")


def test_keyboard_only_edit_and_save(voila, page, district_dir, tmp_path):
    """A school head without a mouse: Tab to the school menu, arrow keys to the school (which opens nothing), Enter
    on Open, Enter on the step and the panel, arrow keys for the likelihood, type the reason, Shift+Tab to Save."""
    school_file = district_dir / "schools" / "gs-kleeblatt.yaml"
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(voila)
    menu = page.locator(".rk-school-menu select")
    expect(menu).to_be_visible(timeout=START_TIMEOUT * 1000)
    tab_to(page, lambda f: f["tag"] == "select")
    for _ in range(5):  # to "Grundschule Kleeblatt Birkenfeld", the fifth school
        page.keyboard.press("ArrowDown")
    expect(menu).to_have_value(KLEEBLATT)  # ipywidgets uses the labels as option values
    page.wait_for_timeout(500)
    expect(page.get_by_text("Geladen:")).to_have_count(0)  # nothing opened yet
    tab_to(page, lambda f: f["text"] == "Öffnen")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Geladen: gs-kleeblatt.yaml")).to_be_visible()
    tab_to(page, lambda f: f["text"] == RISKS)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=RISKS)).to_have_attribute("aria-expanded", "true")
    tab_to(page, lambda f: f["text"] == ACCOUNTS)
    page.keyboard.press("Space")
    expect(page.get_by_role("button", name=ACCOUNTS)).to_have_attribute("aria-expanded", "true")
    radio = tab_to(page, lambda f: f["type"] == "radio" and "rk-risks-identity-theft-likelihood" in f["classes"])
    assert radio["label"].startswith("2 ")  # one Tab stop for the choice: its chosen level
    for level in ("3 substanziell", "4 groß"):  # from 2, one step at a time
        page.keyboard.press("ArrowDown")
        expect(page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(f"^{level}"))).to_be_checked()
    wait_for_marker(page, INHERENT, "R2", (4, 3))
    tab_to(page, lambda f: f["tag"] == "textarea" and "rk-risks-identity-theft-reason" in f["classes"])
    page.keyboard.press("Control+A")
    page.keyboard.type("Geteilte Tablets, Anmeldungen bleiben offen.")
    expect(page.get_by_text("● Ungespeicherte Änderungen")).to_be_visible()
    tab_to(page, lambda f: f["text"] == "Speichern", back=True)
    page.keyboard.press("Enter")
    expect(page.locator("[role=status]")).to_contain_text("Gespeichert: gs-kleeblatt.yaml")
    saved = yaml.safe_load(school_file.read_text(encoding="utf-8"))["risks"]["identity-theft"]
    assert saved["likelihood"] == 4 and saved["reason"] == "Geteilte Tablets, Anmeldungen bleiben offen."
    assert axe_violations(page) == []
    page.screenshot(path=tmp_path / "keyboard-saved.png")


def test_phone_and_desktop_layout(voila, page):
    """At 390 px the form has the width and the matrix comes below it; at 1366 px the matrix stays in view next to
    the risk being edited."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(voila)
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    open_school(page, KLEEBLATT)
    unfold(page, RISKS, ACCOUNTS)
    radio = page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^4 groß"))
    radio.check()  # the tap reaches the radio (the matrix does not cover the form)
    expect(radio).to_be_checked()
    reason, matrix = page.locator(IT + "-reason textarea").bounding_box(), page.locator(".rk-live-matrix").bounding_box()
    assert reason["width"] >= 280 and matrix["y"] > reason["y"] and matrix["x"] + matrix["width"] <= 390
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator(".rk-risks-name-search-disclosure-likelihood").scroll_into_view_if_needed()
    card, matrix = page.locator(".rk-risk-name-search-disclosure").bounding_box(), page.locator(".rk-live-matrix").bounding_box()
    assert matrix["x"] > card["x"] + card["width"] - 1  # beside the risk
    assert 0 <= matrix["y"] and matrix["y"] + matrix["height"] <= 900  # and in view


def test_unsaved_work_survives_a_reload_and_the_tab_asks_before_closing(voila, page, district_dir):
    page.goto(voila)
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    open_school(page, KLEEBLATT)
    unfold(page, RISKS, ACCOUNTS)
    page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^4 groß")).check()
    expect(page.get_by_text("● Ungespeicherte Änderungen")).to_be_visible()
    kept = district_dir / ".riskkit" / "unsaved" / "gs-kleeblatt.json"
    deadline = time.monotonic() + 30
    while not kept.exists() and time.monotonic() < deadline:  # kept a second after the last edit
        time.sleep(0.2)
    assert kept.exists()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.reload()
    assert dialogs == ["beforeunload"]  # the browser asked before leaving the page with unsaved changes
    expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
    open_school(page, KLEEBLATT)
    page.get_by_role("button", name="Mit den ungespeicherten Änderungen weitermachen").click()
    expect(page.get_by_text("Ungespeicherte Änderungen wiederhergestellt – bitte speichern.")).to_be_visible()
    unfold(page, RISKS, ACCOUNTS)
    expect(page.locator(IT + "-likelihood").get_by_role("radio", name=re.compile(r"^4 groß"))).to_be_checked()
    wait_for_marker(page, INHERENT, "R2", (4, 3))
