"""What a browser gets at `riskkit capture` without the right token: a short page in the district's language that
says to open the link from the terminal — no login form, no password set-up (Jupyter's English login page)."""

from __future__ import annotations

import os

from jupyter_server.auth.identity import IdentityProvider
from tornado.web import RequestHandler

from ..figures.markup import esc
from ..model.district import district_language
from ..model.i18n import label
from .app import DISTRICT_ENV
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
STYLE = ("body{font:1.1rem/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;"
         "background:#fff}h1{font-size:1.5rem}")


def token_page(lang: str) -> str:
    """The page: its language, title, one heading and what to do."""
    title, text = esc(label("capture.login.title", lang)), esc(label("capture.login.text", lang))
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
            f"<body><main><h1>{title}</h1><p>{text}</p></main></body></html>")


class TokenPageHandler(RequestHandler):
    """/login and /logout: the page, with status 403."""

    def get(self) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("Cache-Control", "no-store")
        self.finish(token_page(district_language(os.environ.get(DISTRICT_ENV, "."))))

    post = get


class TokenOnlyIdentityProvider(IdentityProvider):
    """The token of the link is the only way in; there is no login form and no password."""

    def get_handlers(self) -> list[tuple[str, object]]:
        return [(r"/login", TokenPageHandler), (r"/logout", TokenPageHandler)]
