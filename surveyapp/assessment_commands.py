"""The ``surveyapp assessment`` command: a year's sanctions and verdicts per street."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from .cli_text import CliError, say, text, translated
from .errors import N_

STATUS = {
    "interview": N_("interview"),
    "yellow_card": N_("yellow card"),
    "rectification": N_("listed for rectification"),
}


@click.command("assessment")
@click.option("--district", "district_code", required=True, help="The district's locality code.")
@click.option("--year", type=int, required=True, help="The assessed year, e.g. 2026.")
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["json", "table"]),
    help="Output format.",
)
@with_appcontext
def assessment(district_code: str, year: int, fmt: str) -> None:
    """Apply the survey's assessment rules to a year: quarterly sanctions, annual verdicts."""
    from .services.assessment import annual_assessment
    from .services.wave_selection import EstimateRequestError

    try:
        doc = annual_assessment(district_code, year)
    except EstimateRequestError as exc:
        raise CliError(translated(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    say(
        N_("%(district)s %(year)s: quarters %(quarters)s"),
        district=doc["district"],
        year=doc["year"],
        quarters=", ".join(f"{q} ({w})" for q, w in doc["quarters"].items()),
    )
    points = text(N_("pts"))
    for s in doc["streets"]:
        rate = s["annual_rate"]
        score = s["annual_score"]
        quarters = " ".join(
            f"{q[-2:]}:{text(STATUS[v]) if v in STATUS else '-'}" for q, v in s["quarters"].items()
        )
        verdict = ", ".join(
            text(word)
            for word, applies in ((N_("veto"), s["veto"]), (N_("disqualified"), s["disqualified"]))
            if applies
        )
        click.echo(
            f"{s['code']} {s['name']}: "
            + (f"{rate['value']:.1%} " if rate else "- ")
            + (f"{score['value']:.1f} {points} " if score else "- ")
            + quarters
            + (f"  {verdict}" if verdict else "")
        )


@click.command("factors")
@click.option("--survey", "survey_id", type=int, required=True, help="The survey's id.")
@click.option("--wave", "wave_code", help="Wave code (default the latest).")
@click.option("--question", default="unsafe_factors", show_default=True, help="A multiple choice.")
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["json", "table"]),
    help="Output format.",
)
@with_appcontext
def factors(survey_id: int, wave_code: str | None, question: str, fmt: str) -> None:
    """Unsafe factors and factor groups: shares among respondents and among all mentions."""
    from .services.factors import shares_document, wave_factor_shares
    from .services.wave_selection import EstimateRequestError, find_survey_and_wave

    try:
        survey, wave = find_survey_and_wave(survey_id, wave_code)
        doc = shares_document(wave_factor_shares(survey, wave, question))
    except EstimateRequestError as exc:
        raise CliError(translated(exc)) from None
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return

    def cell(e: dict | None) -> str:
        if e is None:
            return "-"
        mark = "‡" if e["fallback"] else ""
        return f"{e['value']:.1%} ({e['ci_low']:.1%}–{e['ci_high']:.1%}){mark}"

    for domain, rows in doc["domains"].items():
        say(N_("%(domain)s: share of respondents | share of all factor mentions"), domain=domain)
        for r in rows["groups"] + rows["factors"]:
            click.echo(
                f"  {r['name']}: {cell(r['among_respondents'])} | {cell(r['among_mentions'])}"
            )
