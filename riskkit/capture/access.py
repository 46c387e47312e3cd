"""Who may open what in `riskkit capture`: the DPO's link opens the district, each school's link only that school.

The links carry tokens derived from a key kept in the district folder (`.riskkit/capture-key`, readable by its
owner only, never committed: the folder holds a `.gitignore`), so a school's link stays the same over restarts;
`riskkit capture --new-links` makes a new key and with it revokes every link. The server knows a browser by its
token (then by a signed cookie); before Voilà runs the form for a page, `prelaunch` writes the school into the
notebook's parameters, and the kernels accept from a browser only widget messages (kernels.CaptureKernelManager),
so a school's page cannot run code to reach another school's file."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..model.district import SCHOOLS_DIR

KEY_FILE = Path(".riskkit") / "capture-key"
KEY_ENV = "RISKKIT_CAPTURE_KEY"  # the key file's path, for the Voilà process
DISTRICT = "district"  # who the DPO's link says the user is
SCHOOL_PREFIX = "school:"  # then the school's id (which cannot hold a ":")


def private_folder(district_dir: Path) -> Path:
    """The district's `.riskkit` folder (its owner's only, ignored by git): the key, the links, unsaved drafts."""
    folder = Path(district_dir) / KEY_FILE.parent
    folder.mkdir(mode=0o700, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="ascii")
    return folder


def _write_private(path: Path, write: Callable[[TextIO], object], encoding: str) -> None:
    """Write a file readable by its owner only, via a temp file and a rename."""
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding=encoding, newline="") as handle:
        write(handle)
    os.replace(temp, path)


def key(district_dir: Path, new: bool = False) -> Path:
    """The district's capture key file, made (readable by its owner only) if missing or if `new`."""
    path = private_folder(district_dir) / KEY_FILE.name
    if new or not path.exists():
        _write_private(path, lambda handle: handle.write(secrets.token_hex(32)), "ascii")
    return path


def _secret(key_file: Path) -> bytes:
    return Path(key_file).read_bytes().strip()


def _token(secret: bytes, who: str) -> str:
    digest = hmac.new(secret, who.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:32]


def token(key_file: Path, who: str) -> str:
    """The token of `who` (DISTRICT or `school:<id>`): 32 URL-safe characters."""
    return _token(_secret(key_file), who)


def school_ids(district_dir: Path) -> list[str]:
    """The ids of the district's school files (broken ones too: their school may still open and repair nothing,
    but sees that its file needs the DPO)."""
    return sorted(p.stem for p in (Path(district_dir) / SCHOOLS_DIR).glob("*.yaml") if not p.name.startswith("."))


def identify(key_file: Path, district_dir: Path, given: str) -> str | None:
    """Who a token belongs to: DISTRICT, `school:<id>`, or None."""
    secret, candidates = _secret(key_file), [DISTRICT, *(SCHOOL_PREFIX + s for s in school_ids(district_dir))]
    return next((who for who in candidates if hmac.compare_digest(_token(secret, who), given)), None)


def write_links(path: Path, key_file: Path, district_dir: Path, names: dict[str, str], base_url: str) -> int:
    """A CSV (`;`, UTF-8 with BOM, for Excel) of each school's link, readable by its owner only; returns the count."""
    ids, secret = school_ids(district_dir), _secret(key_file)

    def write(handle: TextIO) -> None:
        out = csv.writer(handle, delimiter=";", quoting=csv.QUOTE_ALL)
        out.writerow(["school_id", "name", "link"])
        for school in ids:
            out.writerow([school, names.get(school, ""), f"{base_url}/?token={_token(secret, SCHOOL_PREFIX + school)}"])

    _write_private(path, write, "utf-8-sig")
    return len(ids)


def prelaunch(handler: Any, notebook: Any, cwd: str) -> Any:
    """Voilà's prelaunch hook: a school's page gets the form of that school alone (its id set in the notebook's
    parameters, by the server, from the user its token proved); the page's title is the form's."""
    from ..model.i18n import label
    from ..model.district import district_language
    from .app import DISTRICT_ENV

    who = handler.current_user.username
    parameters = next(c for c in notebook.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    if who != DISTRICT:
        if not who.startswith(SCHOOL_PREFIX):
            raise PermissionError(who)
        parameters.source += f"\nschool = {who[len(SCHOOL_PREFIX):]!r}\nonly_school = True\n"
    notebook.metadata["title"] = label("form.title", district_language(os.environ.get(DISTRICT_ENV, ".")))
    return notebook
