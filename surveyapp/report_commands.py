"""The ``surveyapp report`` and ``surveyapp export`` commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_text import fail, say, text
from .errors import N_


@click.command("report")
@click.option("--survey", "survey_id", type=int, required=True, help="Survey ID.")
@click.option("--wave", help="Wave code (default: the latest).")
@click.option("--street", help="Street code: one street's report.")
@click.option("--district", help="District code: the district overview.")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Every street's report and the district overview into the directory -o.",
)
@click.option("--lang", default="zh_CN", show_default=True, help="zh_CN or en.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="FILE.pdf (--street, --district) or DIR/ (--all).",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Processes drawing PDFs with --all (default: one per core).",
)
@with_appcontext
def report(
    survey_id: int,
    wave: str | None,
    street: str | None,
    district: str | None,
    everything: bool,
    lang: str,
    output: Path,
    workers: int | None,
) -> None:
    """Write PDF reports of a survey wave (cached: unchanged data is not recomputed)."""
    from .reports import report_language
    from .services.reports import (
        build_many,
        check_street_code,
        district_pdf,
        find_survey_wave,
        report_bundle,
        report_cache,
        report_filename,
        street_pdf,
        survey_streets,
    )

    chosen = [x for x in (street, district, everything or None) if x]
    if len(chosen) != 1:
        raise fail(N_("give exactly one of --street CODE, --district CODE or --all"))
    lang = report_language(lang)
    survey, wave_obj = find_survey_wave(survey_id, wave)
    if street:
        check_street_code(survey, street)
        _write(output, street_pdf(survey, wave_obj, street, lang))
        say(
            N_("%(file)s: report of street %(street)s, wave %(wave)s"),
            file=output,
            street=street,
            wave=wave_obj.code,
        )
        return
    if district:
        if district != survey.district.code:
            raise fail(
                N_("district '%(district)s' is not the district of survey %(id)s (%(code)s)"),
                district=district,
                id=survey_id,
                code=survey.district.code,
            )
        _write(output, district_pdf(survey, wave_obj, lang))
        say(
            N_("%(file)s: district overview %(district)s, wave %(wave)s"),
            file=output,
            district=district,
            wave=wave_obj.code,
        )
        return
    if output.exists() and not output.is_dir():
        raise fail(
            N_("%(file)s is a file: --all writes one PDF per street into a directory"), file=output
        )
    output.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cache = report_cache()
    say(
        N_("Estimating wave %(wave)s (cached when its data did not change)…"),
        wave=wave_obj.code,
        err=True,
    )
    bundle = report_bundle(survey, wave_obj, cache)
    targets = [s.code for s in survey_streets(survey)] + ["district"]
    with click.progressbar(
        length=len(targets), label=text(N_("Reports")), file=sys.stderr, show_pos=True
    ) as bar:
        for what, data in build_many(bundle, targets, lang, cache=cache, workers=workers):
            _write(output / report_filename(bundle, what, lang), data)
            bar.update(1)
    say(
        N_("%(file)s: %(count)s street reports and the district overview in %(seconds)s s"),
        file=output,
        count=len(targets) - 1,
        seconds=f"{time.perf_counter() - started:.1f}",
    )


def _write(path: Path, data: bytes) -> None:
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True)
        path.write_bytes(data)
    except OSError as exc:
        raise fail(
            N_("%(file)s: cannot write the file (%(error)s)"), file=path, error=exc.strerror or exc
        ) from exc


@click.command("export")
@click.option("--survey", "survey_id", type=int, required=True, help="Survey ID.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "sav"]), required=True)
@click.option(
    "--what",
    type=click.Choice(["responses", "estimates"]),
    default="responses",
    show_default=True,
    help="Anonymised responses, or the estimates of a wave.",
)
@click.option("--wave", help="Wave code (responses: default every wave; estimates: the latest).")
@click.option("--lang", default="zh_CN", show_default=True, help="Labels in zh_CN or en.")
@click.option(
    "--identifying",
    is_flag=True,
    help="Responses with the answers that can identify people too: free texts, dates, times "
    "and locations (geopoints as latitude, longitude, altitude and accuracy columns).",
)
@click.option(
    "--repeat",
    metavar="GROUP",
    help="Responses: the long table of this repeat group (a roster), one row per instance.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export(
    survey_id: int,
    fmt: str,
    what: str,
    wave: str | None,
    lang: str,
    identifying: bool,
    repeat: str | None,
    output: Path,
) -> None:
    """Export anonymised responses (CSV, XLSX, SPSS) or estimates (CSV, XLSX)."""
    from .services import audit
    from .services.exports import (
        check_format,
        export_estimates,
        export_responses,
    )
    from .services.reports import find_survey_wave, report_bundle

    check_format(what, fmt)
    survey, wave_obj = find_survey_wave(survey_id, wave)
    if what == "estimates":
        data = export_estimates(report_bundle(survey, wave_obj), fmt, lang)
    else:
        data = export_responses(
            survey,
            fmt,
            wave=wave_obj if wave else None,
            lang=lang,
            identifying=identifying,
            repeat=repeat,
        )
    _write(output, data)
    audit.record(
        "export",
        f"{what}:{survey_id}:{wave or 'all'}",
        format=fmt,
        identifying=identifying,
        source="cli",
        username="(command line)",
        commit=True,
    )
    say(
        N_("%(file)s: responses of survey %(id)s (%(format)s, %(size)s bytes)")
        if what == "responses"
        else N_("%(file)s: estimates of survey %(id)s (%(format)s, %(size)s bytes)"),
        file=output,
        id=survey_id,
        format=fmt,
        size=len(data),
    )
