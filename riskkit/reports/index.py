"""index.html of a batch run: the overview and every school's reports, linked relatively, readable offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..model.district import District
from ..model.i18n import Lang, label
from ..model.yamlio import write_atomic
from ..figures.markup import esc

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
    title = label("batch.title", lang).format(district=district.config.name)
    facts = label("batch.facts", lang).format(
        version=manifest["riskkit_version"], catalogue=manifest["catalogue"],
        finished=manifest.get("finished") or "", **{s: sum(r["status"] == s for r in reports.values())
                                                    for s in ("rendered", "skipped", "failed")},
    )
    overview = reports.get("overview", {})
    rows = []
    for name in sorted(n for n in reports if n != "overview"):
        entry = reports[name]
        rows.append(
            f"<tr><td>{esc(names.get(name, name))}</td><td>{esc(name)}</td><td>{_status(entry, lang)}</td>"
            f"<td>{_links(out, 'schools', name)}</td></tr>"
        )
    head = "".join(f'<th scope="col">{esc(label(k, lang))}</th>' for k in
                   ("school", "overview.school_id", "batch.status", "overview.reports"))
    page = (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{esc(title)}</title>'
        f"<style>{CSS}</style></head><body><main>"
        f"<h1>{esc(title)}</h1><p>{esc(facts)}</p>"
        f"<h2>{esc(label('batch.overview', lang))}</h2>"
        f"<p>{_status(overview, lang)} {_links(out, '', 'overview')}</p>"
        f"<h2>{esc(label('batch.schools', lang))}</h2>"
        f"<table><caption>{esc(label('batch.schools_table', lang))}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></main></body></html>\n"
    )
    path = out / "index.html"
    write_atomic(path, page)
    return path


def _status(entry: dict, lang: Lang) -> str:
    status = entry.get("status", "missing")
    text = esc(label(f"batch.status_{status}", lang))
    if status == "failed":
        return f'<span class="failed">{text}</span>: {esc(entry.get("error") or "")}'
    return text


def _links(out: Path, folder: str, name: str) -> str:
    """Relative links to the documents of `name` that exist in `out/folder`."""
    prefix = f"{folder}/" if folder else ""
    return " ".join(
        f'<a href="{esc(prefix + name + "." + kind)}">{esc(kind.upper())}</a>'
        for kind in KINDS if (out / prefix / f"{name}.{kind}").is_file()
    )


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
