"""The school report as a complete DSFA (EDPB DPIA template order): every part's heading and key contents in the HTML
and the PDF text, German and English, for sample schools at every status. Real kernels (papermill), real nbconvert,
real Chromium PDFs; a few threshold variants through `SchoolView` directly."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import yaml

from riskkit import load_district
from riskkit.figures.markup import effect_text
from riskkit.reports.render import ReportRenderer, render_school_report
from riskkit.reports.schoolview import SchoolView

from conftest import REPO, TODAY, Tags

OLD_FILE = REPO / "tests" / "fixtures" / "catalogue-1.0.0" / "gym-am-schlosspark.yaml"
MIGRATED = "gym-alt-1-0"  # the 1.0.0 file of gym-am-schlosspark under an id of its own
STALE = "Veraltete Einschätzung eines abgeschalteten Moduls"
RENDERS = {
    "de": ["igs-musterau-nord", "gs-sonnenhuegel", "rs-an-der-aue", "gs-am-lindenweg", MIGRATED,
           "foerderzentrum-am-weiher", "obs-wiesental"],
    "en": ["gym-am-schlosspark", "igs-musterau-nord", "bbs-musterau", "kgs-birkenfeld"],
}
SECTIONS = {
    "de": [
        "Zusammenfassung",
        "1. Schwellwertanalyse: Ist eine DSFA nötig?",
        "2. Systematische Beschreibung der Verarbeitung (Art. 35 Abs. 7 lit. a DSGVO)",
        "3. Rechtmäßigkeit der Verarbeitung (Art. 6 und 9 DSGVO)",
        "4. Grundsätze, Betroffenenrechte und Datenschutz durch Technikgestaltung (Art. 5, 12–22, 25, 28 DSGVO)",
        "5. Notwendigkeit und Verhältnismäßigkeit (Art. 35 Abs. 7 lit. b DSGVO)",
        "6. Risikobewertung (Art. 35 Abs. 7 lit. c DSGVO)",
        "7. Maßnahmenplan und Restrisiko",
        "8. Stellungnahme der/des Datenschutzbeauftragten (Art. 35 Abs. 2 DSGVO)",
        "9. Standpunkt der Betroffenen bzw. ihrer Vertretungen (Art. 35 Abs. 9 DSGVO)",
        "10. Entscheidung der Schule",
    ],
    "en": [
        "Summary",
        "1. Threshold analysis: is a DPIA required?",
        "2. Systematic description of the processing (Art. 35(7)(a) GDPR)",
        "3. Lawfulness of the processing (Art. 6 and 9 GDPR)",
        "4. Principles, data subjects' rights and data protection by design (Art. 5, 12–22, 25, 28 GDPR)",
        "5. Necessity and proportionality (Art. 35(7)(b) GDPR)",
        "6. Risk assessment (Art. 35(7)(c) GDPR)",
        "7. Action plan and residual risk",
        "8. Advice of the data protection officer (Art. 35(2) GDPR)",
        "9. Views of the data subjects or their representatives (Art. 35(9) GDPR)",
        "10. The school's decision",
    ],
}


def _words(text: str) -> str:
    return " ".join(text.split())


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")


@pytest.fixture(scope="module")
def district_dir(module_district_dir: Path) -> Path:
    """The sample district plus: the 1.0.0 file of gym-am-schlosspark as `gym-alt-1-0`; at gs-am-lindenweg a stale
    assessment of a risk whose module is off, and one answer (storage limitation) that is the vendor's standard text
    word for word."""
    schools = module_district_dir / "schools"
    old = _yaml(OLD_FILE)
    old["school"]["id"] = MIGRATED
    _write(schools / f"{MIGRATED}.yaml", old)
    path = schools / "gs-am-lindenweg.yaml"
    data = _yaml(path)
    data["risks"]["third-party-addons"] = {"likelihood": 4, "reason": STALE}
    catalogue = load_district(module_district_dir, only=["gs-am-lindenweg"]).catalogue
    adopted = next(q for q in catalogue.questions if q.id == "storage-limitation")
    answer = {"status": adopted.default.status, "text": adopted.default.text["de"]}
    data["dsfa"]["answers"]["storage-limitation"] = answer
    _write(path, data)
    return module_district_dir


@pytest.fixture(scope="module")
def district(district_dir):
    return load_district(district_dir)


@pytest.fixture(scope="module")
def reports(district_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("dsfa-reports")
    rendered = {}
    with ReportRenderer() as renderer:
        for lang, schools in RENDERS.items():
            for school in schools:
                rendered[lang, school] = render_school_report(district_dir, school, lang=lang, out=out / lang,
                                                              renderer=renderer, today=TODAY)
    return rendered


def html(reports, lang: str, school: str) -> str:
    return reports[lang, school]["html"].read_text(encoding="utf-8")


def text(reports, lang: str, school: str) -> str:
    return _words(" ".join(Tags(html(reports, lang, school)).text))


def pdf_pages(reports, lang: str, school: str) -> list[str]:
    from pypdf import PdfReader

    return [_words(page.extract_text()) for page in PdfReader(reports[lang, school]["pdf"]).pages]


def part(page: str, anchor: str) -> str:
    """The HTML of one part, from its h2 (id `anchor`) to the next h2."""
    return re.split(r"<h2 ", page.split(f'<h2 id="{anchor}">', 1)[1], maxsplit=1)[0]


def part_text(page: str, anchor: str) -> str:
    return _words(" ".join(Tags(part(page, anchor)).text))


def row(table_html: str, name: str) -> str:
    """The text of the table row whose header cell names `name`."""
    for tr in re.findall(r"<tr>.*?</tr>", table_html, flags=re.S):
        if f">{name}" in unescape(tr):
            return re.sub(r" ([:;,.])", r"\1", _words(" ".join(Tags(tr).text)))  # "accepted</span>: x" as typed
    raise AssertionError(f"no row {name!r}")


def numbered(district, school: str) -> dict[str, str]:
    return {r.risk.id: f"R{i}" for i, r in enumerate(district.evaluate(school), 1)}


# --- structure: every part, in order, in HTML and PDF, both languages ---------------------------------------------

@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_part_in_the_order_of_the_edpb_template_in_html_and_pdf(reports, lang):
    for school in RENDERS[lang]:
        page = html(reports, lang, school)
        headings = [_words(h) for h in re.findall(r"<h2 id=\"[a-z-]+\">(.*?)</h2>", page)]
        assert [unescape(h) for h in headings] == SECTIONS[lang], school  # Jinja writes ' as &#39;, html.escape &#x27;
        pdf = " ".join(pdf_pages(reports, lang, school))
        positions = [pdf.find(heading) for heading in SECTIONS[lang]]
        assert -1 not in positions and positions == sorted(positions), (school, positions)


def test_headings_tables_and_captions_are_accessible(reports):
    for (lang, school), paths in reports.items():
        page = paths["html"].read_text(encoding="utf-8")
        levels = [int(h) for h in re.findall(r"<h([1-6])[ >]", page)]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), (school, levels)  # no level skipped
        tables = re.findall(r"<table[ >].*?</table>", page, flags=re.S)
        assert tables and all("<caption>" in t for t in tables), school
        for tag, attrs in Tags(page).tags:
            if tag == "th":
                assert attrs.get("scope") in ("row", "col"), (school, attrs)


# --- 0: first page -----------------------------------------------------------------------------------------------

def test_first_page_names_everyone_the_versions_the_method_and_the_status(reports, district):
    facts = text(reports, "de", "igs-musterau-nord").split("Zusammenfassung")[0]
    assert "Integrierte Gesamtschule Musterau-Nord (Gesamtschule (IGS/KGS))" in facts  # the district's kind name
    assert "Landkreis Musterau, Fachdienst Schulen und Bildung (fiktiv)" in facts  # school authority
    assert "vertreten durch die Schulleitung (entschieden durch Andreas Kowalczyk (Schulleiter))" in facts
    assert "Dr. Miriam Feldhaus <datenschutz-schulen@example.org>" in facts
    assert "Bewertet gegen Katalogversion 1.1.0" in facts and "migriert" not in facts
    matrix = district.matrix
    assert f"Methode {matrix.title['de']} {_words(matrix.note['de'])}" in facts
    first = pdf_pages(reports, "de", "igs-musterau-nord")[0]
    for fact in ("Integrierte Gesamtschule Musterau-Nord", "Bewertet gegen Katalogversion", matrix.title["de"],
                 "Zusammenfassung", "Stand der DSFA: entschieden. Alle Schritte sind abgeschlossen."):
        assert fact in first

    draft = text(reports, "de", "rs-an-der-aue")
    assert ("Stand der DSFA: Entwurf. Für den nächsten Schritt fehlt noch: Plattform nicht beschrieben; 9 Risiken "
            "nicht bewertet; 14 Fragen unbeantwortet; 3 Stellungnahmen der Vertretungen fehlen.") in draft
    advised = text(reports, "de", "obs-wiesental")
    assert "Stand der DSFA: von der/dem DSB beraten. Für den nächsten Schritt fehlt noch: Entscheidung der " \
           "Schulleitung fehlt" in advised


def test_migrated_school_names_its_version_and_marks_the_new_risks_open(reports, district):
    assert district.migrations[MIGRATED].from_version == "1.0.0"
    page = html(reports, "de", MIGRATED)
    facts = text(reports, "de", MIGRATED).split("Zusammenfassung")[0]
    assert "Bewertet gegen Katalogversion 1.0.0 – migriert von 1.0.0 auf die aktuelle Version" in facts
    new = [r for r in district.evaluate(MIGRATED) if r.new]
    assert len(new) == 9 and all(r.open for r in new)
    numbers = numbered(district, MIGRATED)
    for r in new:
        section = page.split(f'<h3 id="risk-{r.risk.id}">')[1].split("</section>")[0]
        assert "neu in Katalog 1.1.0" in section and '<span class="level level-open">offen</span>' in section
        assert "Eintrittswahrscheinlichkeit (Schule)" not in section
    assert page.count("neu in Katalog 1.1.0") == 9
    assert f"{numbers[new[0].risk.id]} {new[0].risk.title['de']}" in part_text(page, "summary")


def test_summary_art36_in_the_right_tense_with_the_decision(reports):
    running = part_text(html(reports, "de", "igs-musterau-nord"), "summary")
    assert "Vorherige Konsultation der Aufsichtsbehörde (Art. 36 DSGVO) nötig: ja." in running
    assert ("Die Verarbeitung läuft bereits seit 17.08.2020: Die Schule muss die betroffenen Module (E-Mail, "
            "Messenger, Dateien und Gruppenordner, Videokonferenz) einschränken oder aussetzen und die "
            "Aufsichtsbehörde jetzt konsultieren") in running
    assert ("Entscheidung der Schule vom 12.11.2026 (Andreas Kowalczyk (Schulleiter)): Verarbeitung ausgesetzt, bis "
            "die Aufsichtsbehörde konsultiert wurde") in running
    planned = part_text(html(reports, "de", "gs-sonnenhuegel"), "summary")
    assert "Bei einem Risiko bleibt nach den umgesetzten Maßnahmen ein hohes Restrisiko" in planned
    assert ("Die Verarbeitung ist geplant: Bevor sie beginnt, muss die Schule die Aufsichtsbehörde konsultieren "
            "(Art. 36 Abs. 1 DSGVO)") in planned
    assert "jetzt konsultieren" not in planned
    assert "Die Schule hat noch nicht über die Verarbeitung entschieden." in planned
    english = part_text(html(reports, "en", "igs-musterau-nord"), "summary")
    assert ("The processing is already running (since Aug 17, 2020): the school must restrict or suspend the modules "
            "concerned") in english and "consult the supervisory authority now" in english
    released = part_text(html(reports, "en", "gym-am-schlosspark"), "summary")
    assert "needed: no." in released and "processing released" in released


# --- 1: threshold analysis --------------------------------------------------------------------------------------

def test_threshold_analysis_with_answers_who_answered_and_the_conclusion(reports, district):
    page = html(reports, "de", "foerderzentrum-am-weiher")
    section = part(page, "threshold")
    words = part_text(page, "threshold")
    analysis = district.threshold("foerderzentrum-am-weiher")
    assert analysis.required is True
    titles = ", ".join(a.criterion.title["de"] for a in analysis.yes)
    assert f"Ergebnis: Eine DSFA ist erforderlich. Erfüllt sind {len(analysis.yes)} Kriterien: {titles}." in words
    scoring = row(section, "Bewerten oder Einstufen")
    assert "ja Schule Förderpläne halten den Entwicklungsstand" in scoring
    assert "nein Kreis (für alle Schulen)" in row(section, "Systematische Überwachung")
    listed = row(section, "Eintrag auf der Muss-Liste der Aufsichtsbehörde")
    assert "unbekannt (offen)" in listed and " nein " not in f" {listed} "  # unknown is never shown as no
    english = part_text(html(reports, "en", "kgs-birkenfeld"), "threshold")
    assert "Conclusion: A DPIA is required." in english and "unknown (open) district (for all schools)" in english
    assert "1. Schwellwertanalyse" in " ".join(pdf_pages(reports, "de", "foerderzentrum-am-weiher"))


def test_threshold_conclusion_undetermined_and_not_required(district_dir, tmp_path):
    """Through SchoolView directly: `unknown` keeps the conclusion open, never `no`; too few criteria give `no`."""
    target = tmp_path / "d"
    shutil.copytree(district_dir, target)
    config = _yaml(target / "district.yaml")
    district = load_district(target, only=["gs-am-lindenweg"])
    criteria = [c.id for c in district.catalogue.threshold_criteria if c.kind == "criterion"]
    listed = [c.id for c in district.catalogue.threshold_criteria if c.kind == "list"]
    config["threshold"] = {c: {"answer": "no", "reason": "Nein, begründet."} for c in criteria + listed}
    config["threshold"][criteria[0]] = {"answer": "yes", "reason": "Kinder."}
    config["threshold"][listed[0]] = {"answer": "unknown", "reason": "Liste wird geprüft."}
    _write(target / "district.yaml", config)
    view = SchoolView.load(target, "gs-am-lindenweg", "de", TODAY)
    words = _words(" ".join(Tags(str(view.threshold().html)).text))
    title = view.district.catalogue.threshold_criteria[-1].title["de"]
    assert f"Ergebnis: Noch nicht entschieden: Ein Kriterium ist „unbekannt“ ({title})." in words
    assert "nicht als „nein“" in words and "keine DSFA erforderlich" not in words
    config["threshold"][listed[0]] = {"answer": "no", "reason": "Nicht auf der Liste."}
    _write(target / "district.yaml", config)
    view = SchoolView.load(target, "gs-am-lindenweg", "en", TODAY)
    words = _words(" ".join(Tags(str(view.threshold().html)).text))
    assert "Conclusion: By the answers no DPIA is required (met: one criterion" in words
    assert "Noch nicht" not in words and "not yet determined" not in words.lower()


# --- 2: systematic description ----------------------------------------------------------------------------------

def test_description_per_module_with_sources_processors_hosting_and_size(reports, district):
    page = html(reports, "de", "igs-musterau-nord")
    section = part(page, "description")
    words = part_text(page, "description")
    catalogue = district.catalogue
    for module in catalogue.modules:  # igs uses every module
        assert f"<caption>{module.title['de']}" in section
    assert "Zwecke der Verarbeitung" in words
    video = section.split("<caption>Videokonferenz")[1].split("</table>")[0]
    assert "Einwilligung der Betroffenen (bei Kindern der Erziehungsberechtigten) (Art. 6 Abs. 1 lit. a, Art. 7, " \
           "Art. 8 DS-GVO) (Angabe der Schule)" in _words(" ".join(Tags(video).text))
    assert "Oberstufe; Beratung durch die Schulsozialarbeit (Angabe der Schule)" in _words(" ".join(Tags(video).text))
    assert "Bild- und Tondaten der Teilnehmenden. [2]" in _words(" ".join(Tags(video).text))
    assert "Betriebsvariante Cloud des Herstellers (Rechenzentren in Deutschland)" in words
    assert "Betrieb in Betrieb seit 17.08.2020" in words
    assert "Umfang (ungefähr) 1400 Schülerinnen und Schüler, 120 Beschäftigte" in words
    assert "Lernwerk Schulplattform GmbH (fiktiv)" in row(section, "Lernwerk Schulplattform GmbH (fiktiv)")
    assert "01.08.2021" in row(section, "Lernwerk Schulplattform GmbH (fiktiv)")
    sources = section.split('<ol class="sources">')[1].split("</ol>")[0]
    assert '<li value="1">' + catalogue.document("000_edf2b4f1268cd816.txt").title["de"] in sources
    assert '<li value="2">' + catalogue.document("003_b33c38540315e945.txt").title["de"] in sources
    assert "Die Schule nutzt alle Module der Plattform." in words
    assert "nicht beschrieben" not in words.split("Zwecke")[0]  # no notice for a school that described its platform
    english = part_text(html(reports, "en", "bbs-musterau"), "description")
    assert "Scale (approximately) 2300 pupils, 160 staff" in english and "[1]" in english


def test_description_modules_off_extra_data_and_a_school_without_platform(reports):
    off = part_text(html(reports, "de", "gs-am-lindenweg"), "description")
    assert "Nicht genutzt: Messenger, Erweiterungen von Drittanbietern." in off
    assert "Betriebsvariante eigener Server der Schule" in off
    special = part_text(html(reports, "de", "foerderzentrum-am-weiher"), "description")
    assert ("Gesundheitsdaten (z. B. Erkrankungen, Atteste, Behinderungen) besondere Kategorie (Art. 9 DSGVO) "
            "Förderpläne und sonderpädagogischer Förderbedarf") in special
    assert "Förderpläne und sonderpädagogischer Förderbedarf besondere Kategorie" not in special
    none = part_text(html(reports, "de", "rs-an-der-aue"), "description")
    assert none.startswith("2. Systematische Beschreibung der Verarbeitung (Art. 35 Abs. 7 lit. a DSGVO) "
                           "Die Schule hat ihre Plattform noch nicht beschrieben. Es fehlen die genutzten Module")
    assert "Bis dahin gelten alle Module als genutzt" in none and "Die Schule nutzt alle Module der Plattform." in none
    assert "Die Schule hat keine Rechtsgrundlage gewählt; möglich sind:" in none
    assert "(Angabe der Schule)" not in none and "Umfang (ungefähr) nicht angegeben" in none  # nothing invented
    pdf = " ".join(pdf_pages(reports, "de", "rs-an-der-aue"))
    assert "Die Schule hat ihre Plattform noch nicht beschrieben." in pdf


# --- 3-5: lawfulness, principles and rights, necessity ----------------------------------------------------------

def test_lawfulness_names_the_state_law_consent_and_art9(reports):
    words = part_text(html(reports, "de", "foerderzentrum-am-weiher"), "lawfulness")
    assert "Landesrecht (Niedersachsen): § 31 Niedersächsisches Schulgesetz (NSchG)" in words
    assert "Wer nicht einwilligt, darf keinen Nachteil haben" in words
    assert ("Besondere Kategorien personenbezogener Daten (Art. 9 DSGVO). Die Schule verarbeitet auf der Plattform: "
            "Gesundheitsdaten") in words
    assert "Art. 9 DSGVO). Die Schule" not in part_text(html(reports, "de", "igs-musterau-nord"), "lawfulness")
    assert "Rechtsgrundlage je Modul Art. 6 Abs. 1 lit. a und e" in words  # the question of part `lawfulness`
    english = part_text(html(reports, "en", "kgs-birkenfeld"), "lawfulness")
    assert "State law (Niedersachsen): Section 31 of the Lower Saxony Schools Act (NSchG)" in english


def test_questions_show_status_in_words_the_text_the_default_and_open_ones(reports, district):
    page = html(reports, "de", "igs-musterau-nord")
    principles = part(page, "principles")
    school = district.school("igs-musterau-nord")
    minimisation = row(principles, "Datenminimierung")
    assert "teilweise erfüllt" in minimisation
    assert _words(school.dsfa.answers["data-minimisation"].text) in minimisation
    assert "Standardantwort des Herstellers, von der Schule übernommen" not in principles
    necessity = part(page, "necessity")
    assert "erfüllt" in row(necessity, "Zweckbindung")
    assert "teilweise erfüllt" in row(necessity, "Mildere Mittel")
    assert "✓" not in part_text(page, "principles")  # the marks are CSS, the words are the content

    adopted = part(html(reports, "de", "gs-am-lindenweg"), "principles")
    storage = next(q for q in district.catalogue.questions if q.id == "storage-limitation")
    marked = row(adopted, storage.title["de"])
    assert "Standardantwort des Herstellers, von der Schule übernommen (Quelle: " in marked
    assert adopted.count("Standardantwort des Herstellers, von der Schule übernommen") == 1

    unanswered = html(reports, "de", "rs-an-der-aue")
    for anchor in ("lawfulness", "principles", "necessity"):
        table = part(unanswered, anchor).split('<table class="questions">')[1]
        rows = re.findall(r'<tr><th scope="row">.*?</tr>', table, flags=re.S)
        assert rows and all('qstatus-open">offen<' in r and "Noch nicht beantwortet." in r for r in rows), anchor
    assert "Angebotene Standardantwort des Herstellers (noch nicht bestätigt):" in unanswered
    english = part_text(html(reports, "en", "gym-am-schlosspark"), "principles")
    assert "Rectification and erasure Art. 16, 17 GDPR partly met" in english


# --- 6: risk assessment -------------------------------------------------------------------------------------------

def test_a_risk_of_a_module_not_in_use_is_never_open_nor_scored(reports, district):
    school = "gs-am-lindenweg"
    result = next(r for r in district.evaluate(school) if r.risk.id == "third-party-addons")
    assert not result.applicable and result.entry is not None  # the stale entry is there, and ignored
    page = html(reports, "de", school)
    number = numbered(district, school)["third-party-addons"]
    title = result.risk.title["de"]
    assert '<h3 id="risk-third-party-addons">' not in page
    assert STALE not in page
    na = page.split('<table class="na">')[1].split("</table>")[0]
    assert row(na, title) == f"{number} {title} nicht anwendbar Modul nicht genutzt: Erweiterungen von Drittanbietern"
    for table in ("positions", "residual"):
        assert f">{title}<" not in page.split(f'<table class="{table}">')[1].split("</table>")[0], table
    summary = part_text(page, "summary")
    assert "Ein Risiko ist nicht anwendbar, weil seine Module an der Schule nicht genutzt werden" in summary
    assert "offen 0 0 nicht anwendbar 1 1" in summary and "Noch offen" not in summary
    pdf = " ".join(pdf_pages(reports, "de", school))
    assert f"{number} {title} nicht anwendbar Modul nicht genutzt" in pdf and STALE not in pdf


def test_severity_shows_its_source_and_partial_measures_what_they_count_for(reports, district):
    page = html(reports, "de", "foerderzentrum-am-weiher")
    raised = next(r for r in district.evaluate("foerderzentrum-am-weiher") if r.risk.id == "files-overshared")
    assert raised.severity_source == "data"
    category = next(c for c in district.catalogue.extra_data_categories if c.id == raised.severity_reason)
    section = _words(" ".join(Tags(page.split('<h3 id="risk-files-overshared">')[1].split("</section>")[0]).text))
    assert (f"Schwere {raised.severity} groß. Angehoben durch eine Regel des Katalogs, weil die Schule "
            f"„{category.title['de']}“ auf der Plattform verarbeitet:") in section
    assert f"Schwere laut Katalog: {raised.risk.severity}" in section

    school_raise = html(reports, "en", "kgs-birkenfeld")
    entry = district.school("kgs-birkenfeld").risks["name-search-disclosure"]
    section = _words(" ".join(Tags(school_raise.split('<h3 id="risk-name-search-disclosure">')[1]
                                   .split("</section>")[0]).text))
    assert f"Raised by the school. Reason: {_words(entry.severity.reason)}" in section

    partial = html(reports, "de", "igs-musterau-nord")
    section = _words(" ".join(Tags(partial.split('<h3 id="risk-identity-theft">')[1].split("</section>")[0]).text))
    measure = district.catalogue.measure("two-factor-auth")
    effect = measure.effect_on("identity-theft")
    counted = effect_text(effect.partial, "de") or "nichts"
    assert (f"{measure.title['de']} – teilweise: nur Lehrkräfte; zählt: {counted} "
            f"(voll umgesetzt: {effect_text(effect, 'de')})") in section


# --- 7: action plan, residual risk, acceptance --------------------------------------------------------------------

def test_residual_risk_with_the_controllers_values_and_acceptance(reports, district):
    page = html(reports, "en", "gym-am-schlosspark")
    table = page.split('<table class="residual">')[1].split("</table>")[0]
    school = district.school("gym-am-schlosspark")
    recording = row(table, "Recording or redistribution of video conferences")
    assert f"set by the school. Reason: {_words(school.dsfa.decision.residual['vc-recording'].reason)}" in recording
    devices = next(r for r in district.evaluate("gym-am-schlosspark") if r.risk.id == "private-devices")
    accepted = _words(school.dsfa.decision.accepted["private-devices"])
    assert f"accepted: {accepted}" in row(table, devices.risk.title["en"])
    assert "Every remaining medium or high risk is accepted with a reason." in part_text(page, "plan")

    missing = html(reports, "de", "obs-wiesental")
    numbers = numbered(district, "obs-wiesental")
    unaccepted = [r for r in district.evaluate("obs-wiesental") if r.residual_level in ("medium", "high")
                  and r.risk.id not in district.school("obs-wiesental").dsfa.decision.accepted]
    assert unaccepted
    names = ", ".join(f"{numbers[r.risk.id]} {r.risk.title['de']}" for r in unaccepted)
    assert f"Ohne begründete Akzeptanz: {names}." in part_text(missing, "plan")
    assert missing.count("Akzeptanz fehlt") == len(unaccepted)


# --- 8-10: advice, views, decision ---------------------------------------------------------------------------------

def test_dpo_advice_with_the_proposal_apart_from_the_schools_levels(reports, district):
    page = html(reports, "en", "gym-am-schlosspark")
    words = part_text(page, "advice")
    assert ("By Dr. Miriam Feldhaus (Datenschutzbeauftragte der Schulen im Landkreis) On May 28, 2026 "
            "Opinion favourable") in words
    result = next(r for r in district.evaluate("gym-am-schlosspark") if r.risk.id == "vc-recording")
    school_level = district.matrix.risk_level_name(result.residual_level, "en")
    proposed = part(page, "advice").split('<table class="proposed">')[1].split("</table>")[0]
    assert row(proposed, result.risk.title["en"]) == (
        f"R5 {result.risk.title['en']} {school_level} (L {result.residual_likelihood} / S {result.residual_severity}) "
        f"{district.matrix.risk_level_name('medium', 'en')}")
    assert result.residual_level != "medium"  # the school's own level stays its own
    residual = page.split('<table class="residual">')[1].split("</table>")[0]
    assert row(residual, result.risk.title["en"]).split(")")[0].endswith(
        f"{school_level} (L {result.residual_likelihood} / S {result.residual_severity}")
    assert "The DPO's proposal" not in residual
    assert "Noch nicht eingeholt." in part_text(html(reports, "de", "rs-an-der-aue"), "advice")
    unfavourable = part_text(html(reports, "de", "obs-wiesental"), "advice")
    assert "Votum rät ab (ablehnend)" in unfavourable and "Restrisiko der Schule Vorschlag der/des DSB" in unfavourable


def test_views_per_council_as_the_state_names_them(reports):
    page = html(reports, "en", "bbs-musterau")
    table = part(page, "views")
    assert row(table, "parents' council (Schulelternrat)").startswith(
        "parents' council (Schulelternrat) no Not sought because: Rund 90 Prozent")
    assert row(table, "pupils' council (Schülerrat)").startswith("pupils' council (Schülerrat) yes, on Feb 11, 2026")
    missing = part(html(reports, "de", "rs-an-der-aue"), "views")
    for council in ("Schulelternrat", "Schülerrat", "Schulpersonalrat"):
        assert row(missing, council).startswith(f"{council} fehlt Die Schule hat noch nicht erfasst")
    pupils = row(part(html(reports, "de", "gs-sonnenhuegel"), "views"), "Schülerrat")
    assert pupils.startswith("Schülerrat nein Nicht eingeholt, weil: An der Grundschule ist kein Schülerrat gebildet")


def test_sign_off_prints_the_recorded_decision_else_signature_lines(reports):
    released = html(reports, "en", "gym-am-schlosspark")
    words = part_text(released, "decision")
    assert "On Jun 8, 2026, Dr. Henrike Albrecht (Schulleiterin) decided for the school: processing released." in words
    assert ("Recorded decision and sign-off Decided by Dr. Henrike Albrecht (Schulleiterin) Decided on Jun 8, 2026 "
            "Outcome processing released") in words
    assert 'class="signlines"' not in released and "Place, date" not in words
    pdf = " ".join(pdf_pages(reports, "en", "gym-am-schlosspark"))
    assert "Decided by Dr. Henrike Albrecht (Schulleiterin)" in pdf and "Place, date" not in pdf

    conditions = part_text(html(reports, "de", "foerderzentrum-am-weiher"), "decision")
    assert "Ergebnis Verarbeitung mit Bedingungen freigegeben Bedingungen Förderpläne auf der Plattform" in conditions
    suspended = part_text(html(reports, "de", "igs-musterau-nord"), "decision")
    assert "Verarbeitung ausgesetzt, bis die Aufsichtsbehörde konsultiert wurde (Art. 36 DSGVO)" in suspended
    assert "Die Schule hat die Aufsichtsbehörde nach Art. 36 DSGVO zu konsultieren" in suspended

    open_ = html(reports, "de", "obs-wiesental")
    words = part_text(open_, "decision")
    assert "Noch nicht entschieden." in words and 'class="signlines"' in open_
    assert "Ort, Datum Schulleitung, Oberschule Wiesental" in words
    assert "Datenschutzbeauftragte(r), Dr. Miriam Feldhaus" in words
    assert "Bei hohem Restrisiko" in words
