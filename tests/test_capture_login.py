"""`riskkit capture` speaks German: the terminal shows only riskkit's own lines (Voilà's go to --log), and a link
without the right token opens a short page in the district's language, not Jupyter's English login page."""

from __future__ import annotations

import http.client
import os
import signal
from html.parser import HTMLParser
from urllib.parse import urlsplit

from playwright.sync_api import expect
from test_capture_browser import START_TIMEOUT, browser, start_capture, stop  # noqa: F401 (browser: a fixture)

from riskkit.capture.login import token_page

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
        context.close()

        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("POST", "/login", body="password=x&new_password=y")
        assert connection.getresponse().status in (403, 405)  # nothing to log in to, no password to set
        connection.close()

        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert process.stdout.read() == "Beenden mit Strg+C.\nwird beendet …\n"
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
