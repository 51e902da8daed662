"""The ``surveyapp estimate`` command: design-based estimates from a CSV file or the database.

``--data FILE.csv`` needs neither Flask nor the database (see :func:`main_data`, which the
console script calls before importing them); ``--survey ID`` estimates a stored survey wave
through :func:`surveyapp.services.estimates.survey_estimates`, printed by
:func:`estimate_survey`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from .cli_text import CliError, say, text, translated
from .errors import N_, Text

__all__ = ["estimate", "estimate_survey", "main_data"]

EXIT_USAGE = 2


class EstimateFailure(CliError):
    """A user-facing error: the message goes to stderr (错误：…), the exit status is 2."""

    exit_code = EXIT_USAGE

    @classmethod
    def worded(cls, template: str, /, **params: Any) -> EstimateFailure:
        """The failure ``Text(template, **params)`` in the command line's language."""
        return cls(text(template, **params))


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


@click.command("estimate")
@click.option(
    "--data",
    "data",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV file, one row per respondent (UTF-8, header line).",
)
@click.option("--survey", "survey_id", type=int, help="Estimate a stored survey instead.")
@click.option("--wave", help="Wave code (with --survey; default the latest).")
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    help="Only this indicator (with --survey; repeatable).",
)
@click.option("--var", help="Column to estimate (with --data).")
@click.option(
    "--positive",
    help="Answer codes counted as positive, e.g. 1,2,3: estimates a "
    "proportion. Without it --var is numeric and its mean is estimated.",
)
@click.option("--weight", help="Column of sampling weights.")
@click.option("--strata", help="Column of strata (e.g. street).")
@click.option("--cluster", help="Cluster columns by stage: PSU[,SSU] (e.g. community).")
@click.option("--fpc", help="Population sizes (or sampling fractions) per stage: COL[,COL2].")
@click.option("--by", help="Domain column: one row per domain, then ALL.")
@click.option(
    "--rake",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Rake the weights to the margins in this CSV (variable,category,total).",
)
@click.option(
    "--method",
    default=None,
    type=click.Choice(["logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson"]),
    help="Confidence interval for proportions (R's svyciprop): with --data, only with "
    "--positive (default logit); with --survey, default the survey's setting.",
)
@click.option("--level", default=0.95, show_default=True, type=float, help="Confidence level.")
@click.option(
    "--lonely-psu",
    "lonely_psu",
    default="fail",
    show_default=True,
    type=click.Choice(["fail", "remove", "certainty", "adjust", "average"]),
    help="Strata with a single PSU, as R's options(survey.lonely.psu).",
)
@click.option(
    "--format",
    "fmt",
    default="table",
    show_default=True,
    type=click.Choice(["json", "csv", "table"]),
    help="Output format.",
)
def estimate(
    data: Path | None,
    survey_id: int | None,
    wave: str | None,
    indicators: tuple[str, ...],
    var: str | None,
    positive: str | None,
    weight: str | None,
    strata: str | None,
    cluster: str | None,
    fpc: str | None,
    by: str | None,
    rake: Path | None,
    method: str | None,
    level: float,
    lonely_psu: str,
    fmt: str,
) -> None:
    """Estimate a proportion or mean with confidence intervals, overall and by domain."""
    if (data is None) == (survey_id is None):
        raise EstimateFailure.worded(N_("give either --data FILE.csv or --survey ID"))
    if data is not None:
        click.echo(
            _estimate_data(
                data,
                var,
                positive,
                weight,
                strata,
                cluster,
                fpc,
                by,
                rake,
                method,
                level,
                lonely_psu,
                fmt,
            ),
            nl=False,
        )
        return
    assert survey_id is not None
    for option, value in (
        ("--var", var),
        ("--positive", positive),
        ("--weight", weight),
        ("--strata", strata),
        ("--cluster", cluster),
        ("--fpc", fpc),
        ("--rake", rake),
    ):
        if value:
            raise EstimateFailure.worded(
                N_(
                    "%(option)s is for --data; a survey's design and weighting come from its "
                    "settings"
                ),
                option=option,
            )
    click.echo(_estimate_survey(survey_id, wave, by, method, level, fmt, indicators), nl=False)


def _estimate_data(
    data: Path,
    var: str | None,
    positive: str | None,
    weight: str | None,
    strata: str | None,
    cluster: str | None,
    fpc: str | None,
    by: str | None,
    rake: Path | None,
    method: str | None,
    level: float,
    lonely_psu: str,
    fmt: str,
) -> str:
    from .estimation import EstimationError
    from .estimation.tabular import EstimateRequest, estimate_csv, format_rows
    from .reports.cells import neutral

    if not var:
        raise EstimateFailure.worded(N_("--var is required with --data"))
    if method is not None and positive is None:
        raise EstimateFailure.worded(
            N_(
                "--method %(method)s is an interval method for proportions, but without "
                "--positive '%(var)s' is estimated as a numeric mean (t interval); give "
                "--positive CODES to estimate the share of those answer codes, or leave out "
                "--method"
            ),
            method=method,
            var=var,
        )
    request = EstimateRequest(
        data=data,
        var=var,
        positive=None if positive is None else _split(positive),
        weight=weight,
        strata=strata,
        clusters=_split(cluster),
        fpc=_split(fpc),
        by=by,
        rake=rake,
        method=method or "logit",
        level=level,
        lonely_psu=lonely_psu,
    )
    if positive is not None and not request.positive:
        raise EstimateFailure.worded(
            N_("--positive needs at least one answer code, e.g. --positive 1,2")
        )

    def warn(message: str) -> None:
        say(N_("warning: %(message)s"), message=translated(message), err=True)

    try:
        rows = estimate_csv(request, warn=warn)
    except EstimationError as exc:
        raise EstimateFailure(translated(exc.args[0] if exc.args else str(exc))) from None
    except MemoryError:
        raise EstimateFailure.worded(
            N_("%(file)s: not enough memory to read the file"), file=data
        ) from None
    return format_rows(rows, fmt, text_cell=neutral)


def _estimate_survey(
    survey_id: int,
    wave: str | None,
    by: str | None,
    method: str | None,
    level: float,
    fmt: str,
    indicators: tuple[str, ...],
) -> str:
    from flask import has_app_context

    from .services.wave_selection import EstimateRequestError

    def run() -> str:
        return estimate_survey(
            survey_id, wave=wave, by=by, method=method, level=level, fmt=fmt, indicators=indicators
        )

    try:
        if has_app_context():
            return run()
        from flask.cli import ScriptInfo

        # Under `flask`/`surveyapp` the group's ScriptInfo builds the app (a test runner's
        # app too); called on its own, build the configured one.
        ctx = click.get_current_context(silent=True)
        info = ctx.find_object(ScriptInfo) if ctx is not None else None
        if info is not None:
            app = info.load_app()
        else:
            from .app import create_app

            app = create_app()
        with app.app_context():
            return run()
    except EstimateRequestError as exc:
        raise EstimateFailure(translated(exc)) from None


def main_data(argv: list[str]) -> int:
    """Run ``surveyapp estimate ARGS`` without Flask; return the exit status.

    Usage errors, bad files and impossible estimates print one message on stderr and return 2;
    no traceback.
    """
    try:
        estimate.main(args=list(argv), prog_name="surveyapp estimate", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        exc.show()
        return EXIT_USAGE
    except click.exceptions.Abort:
        say(N_("Aborted!"), err=True)
        return 1
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_data(sys.argv[1:]))


# ----------------------------------------------------------------------------- --survey output

ROW_KEYS = ("domain", "n", "estimate", "se", "ci_low", "ci_high", "df", "deff", "fallback")


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _row(indicator: str, domain: str, est: Any) -> dict:
    return {
        "indicator": indicator,
        "domain": domain,
        "n": est.n,
        "estimate": _clean(est.value),
        "se": _clean(est.se),
        "ci_low": _clean(est.ci_low),
        "ci_high": _clean(est.ci_high),
        "df": _clean(est.df),
        "deff": _clean(est.deff),
        "fallback": est.fallback,
    }


def estimate_survey(
    survey_id: int,
    wave: str | None = None,
    by: str | None = None,
    method: str | None = None,
    level: float | None = None,
    fmt: str = "table",
    indicators: tuple[str, ...] = (),
) -> str:
    """Estimate every indicator of a survey wave from the database; return the formatted text
    (``table``, ``json`` or ``csv``), as ``surveyapp estimate --survey`` prints it.

    The rows of each indicator are its domains (when ``by`` is given) followed by ``ALL``
    (:func:`surveyapp.services.estimates.survey_estimates`).
    """
    import io
    import json
    from dataclasses import asdict

    from .reports.cells import CsvDictWriter
    from .services.estimates import survey_estimates

    result = survey_estimates(
        survey_id, wave=wave, by=by, method=method, level=level, indicators=indicators
    )
    survey, settings, weighting = result.survey, result.settings, result.weighting
    wave_code = result.wave.code
    ci_method = settings["ci_method"]
    lvl = float(settings["level"])
    rows = [_row(indicator, domain, est) for indicator, domain, est in result.rows]
    notes = result.notes
    header = {
        "survey": {"id": survey.id, "name": survey.name},
        "wave": wave_code,
        "settings_version": settings["settings_version"],
        "settings": settings,
        "weighting": asdict(weighting),
        "n": result.n,
    }
    if fmt == "json":
        return json.dumps(
            {**header, "estimates": rows, "notes": notes}, ensure_ascii=False, indent=2
        )
    if fmt == "csv":
        buf = io.StringIO()
        buf.write(
            f"# survey {survey.id} {survey.name}; wave {wave_code}; "
            f"settings version {settings['settings_version']}; "
            f"strata {settings['design'].get('strata')}; "
            f"PSU {settings['design'].get('cluster')}; "
            f"CI {ci_method} {lvl:g}; weighting {weighting.method} "
            f"{'+'.join(weighting.margins)}; n {result.n}\n"
        )
        writer = CsvDictWriter(buf, fieldnames=("indicator", *ROW_KEYS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        buf.writelines(f"# note: {n}\n" for n in notes)
        return buf.getvalue()
    lines = [
        text(
            N_("Survey %(id)s %(name)s, wave %(wave)s: %(n)s eligible responses"),
            id=survey.id,
            name=survey.name,
            wave=wave_code,
            n=result.n,
        ),
        text(
            N_(
                "Design: strata=%(strata)s PSU=%(psu)s; weighting: %(method)s (%(margins)s), "
                "Kish deff %(deff)s, effective n %(n)s; CI: %(ci)s %(level)s"
            ),
            strata=settings["design"].get("strata"),
            psu=settings["design"].get("cluster"),
            method=weighting.method,
            margins=", ".join(weighting.margins) or Text(N_("no margins")),
            deff=f"{weighting.kish_deff:.2f}",
            n=f"{weighting.effective_n:.0f}",
            ci=ci_method,
            level=f"{lvl:.0%}",
        ),
        "",
        f"{'indicator':<30} {'domain':<16} {'n':>6} {'estimate':>9} {'CI':>19} {'deff':>6}",
    ]
    for r in rows:
        ci = f"{r['ci_low']:.4f}–{r['ci_high']:.4f}" if r["ci_low"] is not None else "–"
        deff = f"{r['deff']:.2f}" if r["deff"] is not None else "–"
        lines.append(
            f"{r['indicator']:<30} {r['domain']:<16} {r['n']:>6} "
            f"{r['estimate']:>9.4f} {ci:>19} {deff:>6}"
        )
    lines.extend(text(N_("note: %(note)s"), note=translated(n)) for n in notes)
    return "\n".join(lines) + "\n"
