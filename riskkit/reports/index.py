"""index.html of a batch run: the overview and every school's reports, linked relatively, readable offline; rendered by
the autoescaping template `figures/templates/index.html.j2`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..model.district import District
from ..model.i18n import Lang, label
from ..model.yamlio import write_atomic
from ..figures.markup import render

KINDS = ("html", "pdf", "ipynb", "failed.ipynb")
CSS = (
    "body{font:16px/1.5 'DejaVu Sans',Arial,sans-serif;color:#1a1a1a;background:#fff;max-width:60rem;margin:0 auto;"
    "padding:1.5rem}h1,h2{color:#10284a}table{border-collapse:collapse;width:100%}th,td{border:1px solid #9a9a9a;"
    "padding:.3em .5em;text-align:left;vertical-align:top}thead th{background:#e8edf3;color:#10284a}"
    "caption{text-align:left;font-weight:600;padding-bottom:.3em}a{color:#0b4f9c}.failed{color:#8b0000;font-weight:600}"
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def write_index(out: Path, district: District, manifest: dict, lang: Lang) -> Path:
    """Write `out/index.html` from the manifest: links only to documents that exist, failures with their cause."""
    reports = manifest["reports"]
    names = {school_id: a.school.name for school_id, a in district.schools.items()}
    facts = label("batch.facts", lang).format(
        version=manifest["riskkit_version"], catalogue=manifest["catalogue"],
        finished=manifest.get("finished") or "", **{s: sum(r["status"] == s for r in reports.values())
                                                    for s in ("rendered", "skipped", "failed")},
    )
    rows = [dict(name=names.get(name, name), id=name, entry=reports[name], links=_links(out, "schools", name))
            for name in sorted(n for n in reports if n != "overview")]
    page = render(
        "index.html.j2", lang=lang, csp=CSP, css=Markup(CSS), title=label("batch.title", lang).format(district=district.config.name),
        facts=facts, overview=reports.get("overview", {}), overview_links=_links(out, "", "overview"), rows=rows,
    )
    path = out / "index.html"
    write_atomic(path, page + "\n")
    return path


def _links(out: Path, folder: str, name: str) -> list[tuple[str, str]]:
    """(relative link, kind) of the documents of `name` that exist in `out/folder`."""
    prefix = f"{folder}/" if folder else ""
    return [(f"{prefix}{name}.{kind}", kind.upper()) for kind in KINDS if (out / prefix / f"{name}.{kind}").is_file()]


def write_state_index(out: Path, state: str, districts: list[dict[str, Any]], lang: Lang) -> Path:
    """Write `out/index.html` of a state run: per district folder its name, report counts and links to its overview
    and its own index (rendered by an autoescaping Jinja2 template)."""
    from jinja2 import Environment, FileSystemLoader

    rows = []
    for district in districts:
        links = [{"href": f"{district['folder']}/{page}.html", "text": label(key, lang)}
                 for page, key in (("overview", "batch.overview"), ("index", "batch.district_index"))
                 if (out / district["folder"] / f"{page}.html").is_file()]
        rows.append({**district, "links": links,
                     "counts": label("batch.district_counts", lang).format(**district["counts"])})
    environment = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
    page = environment.get_template("state_index.html.j2").render(
        lang=lang, csp=CSP, css=CSS, title=label("batch.state_title", lang).format(state=state),
        caption=label("batch.districts_table", lang), failed=label("batch.district_failed", lang), rows=rows,
        head=[label(k, lang) for k in ("batch.district", "overview.school_id", "batch.status", "overview.reports")],
    )
    path = out / "index.html"
    write_atomic(path, page)
    return path
