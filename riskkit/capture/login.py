"""Who a browser is at `riskkit capture`: the DPO or one school, known by the token of its link (access.py); without
a right token a short page in the district's language says to open the link it was given — no login form, no
password set-up (Jupyter's English login page)."""

from __future__ import annotations

import os

from jupyter_server.auth.identity import IdentityProvider, User
from tornado.web import RequestHandler

from ..figures.markup import render
from ..model.district import district_language
from ..model.i18n import label
from .access import KEY_ENV, identify
from .app import DISTRICT_ENV

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def token_page(lang: str) -> str:
    """The page: its language, title, one heading and what to do."""
    return str(render("token.html.j2", lang=lang, title=label("capture.login.title", lang),
                      text=label("capture.login.text", lang)))


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
    """The token of the link is the only way in; there is no login form and no password. The user is named after
    who the token belongs to (`district` or `school:<id>`), and kept in the signed login cookie."""

    async def get_user_token(self, handler: RequestHandler) -> User | None:
        given = self.get_token(handler)
        who = identify(os.environ[KEY_ENV], os.environ[DISTRICT_ENV], given) if given else None
        return User(who) if who else None

    def get_handlers(self) -> list[tuple[str, object]]:
        return [(r"/login", TokenPageHandler), (r"/logout", TokenPageHandler)]
