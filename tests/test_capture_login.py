"""`riskkit capture` speaks German: the terminal shows only riskkit's own lines (Voilà's go to --log), and a link
without the right token opens a short page in the district's language, not Jupyter's English login page."""

from __future__ import annotations

import csv
import http.client
import os
import re
import signal
from html.parser import HTMLParser
from urllib.parse import urlsplit

from playwright.sync_api import expect
from test_capture_browser import START_TIMEOUT, browser, start_capture, stop  # noqa: F401 (browser: a fixture)

from riskkit.capture.login import token_page

SCHOOL = "gs-kleeblatt"

TITLE = "Link unvollständig oder abgelaufen"


def test_terminal_lines_and_the_page_without_a_token(district_dir, tmp_path, browser):  # noqa: F811
    process, url = start_capture(district_dir, tmp_path)
    try:
        parts = urlsplit(url)
        context = browser.new_context()
        page = context.new_page()
        for wrong in (f"http://{parts.netloc}/", f"http://{parts.netloc}/?token=wrong-{parts.query[6:]}",
                      f"http://{parts.netloc}/login"):
            response = page.goto(wrong)
            assert response.status == 403, wrong
            assert page.locator("html").get_attribute("lang") == "de"
            assert page.title() == TITLE
            expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
            assert page.locator("form, input, script").count() == 0  # no password, no set-up, no Jupyter app
            assert "password" not in page.content().lower() and "Jupyter" not in page.content()
        page.goto(url)  # the right link still opens the form
        expect(page.locator(".rk-school-menu select")).to_be_visible(timeout=START_TIMEOUT * 1000)
        assert page.title() == "Risiken der Schulplattform erfassen"
        assert page.locator("html").get_attribute("lang") == "de"
        page.get_by_role("button", name="English").click()
        expect(page.locator(".rk-form")).to_have_attribute("lang", "en")  # the page follows the language switch
        assert page.locator("html").get_attribute("lang") == "en" and page.title() == "Record the school platform's risks"
        context.close()

        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("POST", "/login", body="password=x&new_password=y")
        assert connection.getresponse().status in (403, 405)  # nothing to log in to, no password to set
        connection.close()

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        links = district_dir / ".riskkit" / "capture-links.csv"
        assert process.stdout.read() == (f"Links der 12 Schulen (jede öffnet nur ihre Schule): {links}\n"
                                         "Beenden mit Strg+C.\nwird beendet …\n")
    finally:
        stop(process, signal.SIGKILL)
    assert (tmp_path / "stderr.log").read_text() == ""  # no placeholder URL, warnings or library lines
    voila_log = (tmp_path / "voila.log").read_text()
    assert "Voilà is running at" in voila_log and "Kernel started" in voila_log  # Voilà's lines went to --log


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_the_token_page_in_both_languages():
    for lang, title in (("de", TITLE), ("en", "Link incomplete or expired")):
        html = token_page(lang)
        assert f'<html lang="{lang}">' in html and f"<title>{title}</title>" in html and f"<h1>{title}</h1>" in html
        parser = _Text()
        parser.feed(html)
        assert "script" not in parser.tags and "form" not in parser.tags and "input" not in parser.tags
    assert "?token=…" in token_page("de")


def test_a_school_link_opens_that_school_only_and_runs_no_code(district_dir, tmp_path, browser):  # noqa: F811
    """The school's link from the links file: its form only (no menu, no other school's id or problem), and code
    sent over the page's kernel connection is not run."""
    (district_dir / "schools" / "gs-am-lindenweg.yaml").write_text("school: [broken", encoding="utf-8")
    process, url = start_capture(district_dir, tmp_path)
    try:
        links = district_dir / ".riskkit" / "capture-links.csv"
        assert links.stat().st_mode & 0o077 == 0 and (district_dir / ".riskkit" / ".gitignore").read_text() == "*\n"
        assert links.read_bytes().startswith(b"\xef\xbb\xbf")  # opens in Excel
        rows = {r["school_id"]: r for r in csv.DictReader(links.open(encoding="utf-8-sig"), delimiter=";")}
        assert len(rows) == 12 and len({r["link"] for r in rows.values()}) == 12 and url not in rows[SCHOOL]["link"]
        context = browser.new_context()
        page = context.new_page()
        page.goto(rows[SCHOOL]["link"])
        expect(page.get_by_text(f"Geladen: {SCHOOL}.yaml")).to_be_visible(timeout=START_TIMEOUT * 1000)
        expect(page.locator(".rk-school-menu")).to_be_hidden()
        content = page.content()
        others = [school for school in rows if school != SCHOOL]
        assert [school for school in others if school in content] == []  # no other id, not even the broken file's

        # a script in the page sends code to its kernel: the server drops it
        marker = tmp_path / "ran"
        kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', content).group(1)
        page.evaluate("""([kernel, code]) => new Promise((done) => {
            const ws = new WebSocket(`ws://${location.host}/api/kernels/${kernel}/channels`);
            ws.onopen = () => {
                ws.send(JSON.stringify({channel: "shell", header: {msg_id: "x1", msg_type: "execute_request",
                    session: "s", username: "u", version: "5.3", date: ""}, parent_header: {}, metadata: {},
                    content: {code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false},
                    buffers: []}));
                setTimeout(() => { ws.close(); done(); }, 3000);
            };
        })""", [kernel_id, f"open({str(marker)!r}, 'w').write('x')"])
        assert not marker.exists()
        context.close()

        context = browser.new_context()  # the DPO's link sees the district and the broken file
        page = context.new_page()
        page.goto(url)
        expect(page.get_by_text("gs-am-lindenweg.yaml").first).to_be_visible(timeout=START_TIMEOUT * 1000)
        context.close()
    finally:
        stop(process, signal.SIGKILL)
    assert 'Received message of type "execute_request", which is not allowed' in (tmp_path / "voila.log").read_text()
