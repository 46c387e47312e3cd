"""The `riskkit` command line: thin commands over the library; heavy imports stay inside the commands.

May import: every sub-package of riskkit (it is the top layer).
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date
from pathlib import Path

import click

from ..capture.app import DEFAULT_IDLE_SECONDS, DEFAULT_PORT

LANG_KEY, DISTRICT_KEY = "riskkit.lang", "riskkit.district"


class Remembered:
    """A parameter type that keeps its converted value in the command's `ctx.meta[meta_key]` (see `message_lang`)."""

    meta_key: str

    def convert(self, value, param, ctx):
        converted = super().convert(value, param, ctx)
        if ctx is not None:
            ctx.meta[self.meta_key] = converted
        return converted


class LangChoice(Remembered, click.Choice):
    """`de` or `en`; the command's language is kept for its error messages."""

    meta_key = LANG_KEY


class DistrictDir(Remembered, click.Path):
    """A district folder; kept so that an error is written in the district's language."""

    meta_key = DISTRICT_KEY


LANG = LangChoice(["de", "en"])
DISTRICT_DIR = DistrictDir(exists=True, file_okay=False, path_type=Path)


def message_lang(ctx: click.Context) -> str:
    """The language of the command's messages: its --lang, else its district's language, else German."""
    from ..model.district import district_language

    if ctx.meta.get(LANG_KEY):
        return ctx.meta[LANG_KEY]
    return district_language(ctx.meta[DISTRICT_KEY]) if ctx.meta.get(DISTRICT_KEY) else "de"


class IsoDate(click.ParamType):
    """A date written YYYY-MM-DD, given to the command as a `date`."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date written YYYY-MM-DD", param, ctx)


class CommaList(click.ParamType):
    """`html,pdf` -> ["html", "pdf"]; each part one of `choices` (else a usage error, exit code 2)."""

    name = "LIST"

    def __init__(self, choices: tuple[str, ...]):
        self.choices = choices

    def convert(self, value, param, ctx) -> list[str]:
        parts = value if isinstance(value, list) else [part.strip() for part in value.split(",") if part.strip()]
        unknown = [part for part in parts if part not in self.choices]
        if unknown or not parts:
            self.fail(f"unknown {', '.join(map(repr, unknown)) or '(none)'}; allowed: {', '.join(self.choices)}",
                      param, ctx)
        return parts


REPORT_FORMATS = ("html", "pdf")  # riskkit.reports.render.FORMATS, without importing the renderer


class RiskkitGroup(click.Group):
    """Prints a RiskkitError as its message (no traceback) and exits with its code; --debug shows tracebacks."""

    def invoke(self, ctx: click.Context):
        from ..model.errors import RiskkitError
        from ..model.messages import frame

        try:
            return super().invoke(ctx)
        except RiskkitError as exc:
            if ctx.params.get("debug"):
                raise
            lang = message_lang(ctx)
            click.secho(f"{frame('error', lang)}: {exc.text(lang)}", err=True, fg="red")
            ctx.exit(exc.exit_code)


@click.group(cls=RiskkitGroup)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="riskkit")
def main(debug: bool) -> None:
    """riskkit: data-protection impact assessment (DSFA, GDPR Art. 35) of school platforms."""


@main.command()
@click.argument("district_dir", type=DISTRICT_DIR)
@click.option("--lang", type=LANG, help="Language of the summary (default: the district's).")
@click.option("--today", type=IsoDate(), help="Date to judge overdue reviews by (YYYY-MM-DD).")
def validate(district_dir: Path, lang: str | None, today: date | None) -> None:
    """Validate a district and print each school's risk levels and Art. 36 conclusion.

    Exits with 2 and lists every problem if any file is invalid.
    """
    from ..model.district import load_district
    from .tables import district_summary

    district = load_district(district_dir)
    click.echo(district_summary(district, lang or district.config.language, today or date.today()))


@main.command()
@click.argument("district_dir", type=DISTRICT_DIR)
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
@click.option("--lang", type=LANG, help="Language of the listing (default: the district's).")
def migrate(district_dir: Path, dry_run: bool, lang: str | None) -> None:
    """Rewrite school files assessed against an older catalogue version to the current one.

    Each file is written atomically; its previous version is kept in schools/.history/.
    """
    from ..model.district import load_district
    from ..model.upgrade import upgrade_district, upgrade_report

    district = load_district(district_dir)
    upgrades = upgrade_district(district, dry_run)
    click.echo(upgrade_report(upgrades, lang or district.config.language, dry_run))


@main.command()
@click.option("--lang", type=LANG, default="de", show_default=True)
@click.option("--id", "catalogue_id", default="school-platform", show_default=True, help="Catalogue id or YAML file.")
def catalogue(lang: str, catalogue_id: str) -> None:
    """List the catalogue's risks (with severity) and measures (with their effects)."""
    from ..model.catalogue import load_catalogue
    from .tables import catalogue_listing

    click.echo(catalogue_listing(load_catalogue(catalogue_id), lang))


@main.command()
@click.argument("district_dir", type=DISTRICT_DIR)
@click.argument("school_id")
@click.option("--lang", type=LANG, help="Language of the report (default: the district's).")
@click.option("--format", "formats", type=CommaList(REPORT_FORMATS), default="html,pdf", show_default=True,
              help="Comma-separated: html, pdf (the executed .ipynb is always written).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: reports/<district-id>/schools/).")
@click.option("--today", type=IsoDate(), help="Date to judge overdue dates by (YYYY-MM-DD).")
def report(district_dir: Path, school_id: str, lang: str | None, formats: list[str], out: Path | None,
           today: date | None) -> None:
    """Render one school's DSFA report: executed notebook, offline HTML and A4 PDF."""
    from ..reports.render import render_school_report

    paths = render_school_report(
        district_dir, school_id, lang=lang, formats=formats, out=out, today=today
    )
    for path in paths.values():
        click.echo(str(path))


@main.command()
@click.argument("district_dir", type=DISTRICT_DIR)
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1.")
@click.option("--idle-timeout", type=click.IntRange(min=10), default=DEFAULT_IDLE_SECONDS, show_default=True,
              help="Seconds after which a closed tab's kernel is shut down.")
@click.option("--log", type=click.Path(dir_okay=False, path_type=Path),
              help="Append Voilà's own messages to this file (default: not kept).")
@click.option("--new-links", is_flag=True, help="Make new links for the DPO and every school (the old ones stop working).")
def capture(district_dir: Path, port: int, idle_timeout: int, log: Path | None, new_links: bool) -> None:
    """Serve the capture form as a Voilà app on 127.0.0.1: prints the DPO's link (the whole district) and writes each
    school's link (that school only) to DISTRICT_DIR/.riskkit/capture-links.csv; Ctrl-C stops it."""
    from ..capture.app import serve

    sys.exit(serve(district_dir, port, idle_timeout, echo=click.echo, log=log, new_links=new_links))


@main.command()
@click.argument("district_dir", type=DISTRICT_DIR)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .xlsx file to write.")
@click.option("--lang", type=LANG, default="de", show_default=True, help="Language of the headers and lists.")
@click.option("--school", "school_id", help="Prefill with this school's assessment (for its yearly review).")
def template(district_dir: Path, output: Path, lang: str, school_id: str | None) -> None:
    """Write the XLSX questionnaire schools fill in (read back with `riskkit import`)."""
    from ..model.district import load_district
    from ..model.i18n import label
    from ..sheets.template import write_template

    write_template(load_district(district_dir), output, lang, school_id)
    click.echo(f"{label('sheet.written', lang)}: {output}")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("district_dir", type=DISTRICT_DIR)
@click.option("--dry-run", is_flag=True, help="Show what would be created, updated or left unchanged; write nothing.")
@click.option("--lang", type=LANG, help="Language of the problems listed (default: the district's).")
def import_(files: tuple[Path, ...], district_dir: Path, dry_run: bool, lang: str | None) -> None:
    """Import filled questionnaires (.xlsx) and flat tables (.csv/.xlsx, one row per school and risk).

    Schools with problems are not written; every problem is listed and the exit code is 2.
    """
    from ..model.district import load_district
    from ..model.errors import ValidationError
    from ..sheets.importer import import_files

    report, problems = import_files(load_district(district_dir), list(files), dry_run)
    click.echo(report)
    if problems:
        raise ValidationError(problems)


@main.command()
@click.argument("district_dir", type=DISTRICT_DIR)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: reports/<district>/<district>-results.<format>).")
@click.option("--today", type=IsoDate(), help="Date to judge overdue reviews by (YYYY-MM-DD).")
@click.option("--lang", type=LANG, help="Headers and values: de (for German Excel: ';', names) or en (ids, numbers);"
                                        " default: the district's language.")
def export(district_dir: Path, fmt: str, output: Path | None, today: date | None, lang: str | None) -> None:
    """Export the district's results table, one row per school and risk, safe to open in a spreadsheet."""
    from ..model.district import load_district
    from ..sheets.export import export as write_export
    from ..model.i18n import label

    district = load_district(district_dir)
    output = output or Path("reports") / district.id / f"{district.id}-results.{fmt}"
    write_export(district, fmt, output, today, lang)
    click.echo(f"{label('sheet.written', lang or district.config.language)}: {output}")


@main.command()
@click.argument("district_dir", metavar="DISTRICT_DIR|STATE_DIR", type=DISTRICT_DIR)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: reports/<folder name>/).")
@click.option("--workers", type=click.IntRange(min=1), help="Parallel workers (default: one per core).")
@click.option("--formats", type=CommaList(REPORT_FORMATS), default="html,pdf", show_default=True,
              help="Comma-separated: html, pdf (the executed .ipynb is always written).")
@click.option("--lang", type=LANG, help="Language of the reports (default: the district's).")
@click.option("--force", is_flag=True, help="Render every report, also those whose inputs are unchanged.")
@click.option("--scheduler", metavar="ADDRESS", help="Run on a Dask distributed cluster, e.g. tcp://host:8786.")
@click.option("--today", type=IsoDate(), help="Date to judge overdue dates by (YYYY-MM-DD; default: today).")
@click.option("--cell-timeout", type=click.FloatRange(min=0, min_open=True), default=600, show_default=True,
              metavar="SECONDS", help="Longest a notebook cell may run before its report fails.")
@click.option("--browser-timeout", type=click.FloatRange(min=0, min_open=True), default=120, show_default=True,
              metavar="SECONDS", help="Longest one figure drawing or PDF print may take (then the browser is restarted "
                                      "and the report retried once).")
def batch(district_dir: Path, out: Path | None, workers: int | None, formats: list[str], lang: str | None,
          force: bool, scheduler: str | None, today: date | None, cell_timeout: float, browser_timeout: float) -> None:
    """Render every school's report and the district overview, in parallel; re-runs skip unchanged reports.

    Writes schools/<id>.{ipynb,html,pdf}, overview.*, index.html and manifest.json. A folder of district folders
    renders each district into <out>/<district>/ and a state index.html. Exits 1 if any report failed (each
    failure is listed with its cause; <id>.failed.ipynb keeps the notebook up to the failing cell) and 130 if
    interrupted; the next run resumes.
    """
    from ..reports.batch import run_batch

    if scheduler and importlib.util.find_spec("distributed") is None:
        raise click.BadParameter("needs Dask's distributed package, an optional extra: pip install 'riskkit[dask]'",
                                 param_hint="--scheduler")
    result = run_batch(
        district_dir, out=out, workers=workers, formats=formats, lang=lang, force=force, scheduler=scheduler,
        today=today, cell_timeout=cell_timeout, browser_timeout=browser_timeout,
    )
    from ..model.i18n import label
    from ..reports.batch import seconds_text

    lang = message_lang(click.get_current_context())
    click.echo(label("cli.batch.summary", lang).format(
        out=result.out, rendered=result.count("rendered"), skipped=result.count("skipped"),
        failed=len(result.errors), seconds=seconds_text(result.seconds, lang)))
    for name, error in sorted(result.errors.items()):
        click.echo(label("cli.batch.failed", lang).format(name=name, error=error), err=True)
        if name in result.failed_notebooks:
            click.echo(label("cli.batch.failed_notebook", lang).format(file=result.failed_notebooks[name]), err=True)
    if result.interrupted:
        sys.exit(130)
    if result.errors:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
