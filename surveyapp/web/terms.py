"""Codes stored in the database, shown to people as words (with the code where supervisors need it).

One table for the whole interface: modes, review states, quality flags, telephone case states and
call outcomes. A code not in the table is shown as it is (it is data, not wording).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..fieldwork.dispositions import DISPOSITIONS
from ..questionnaire.types import KINDS

TERMS = {
    "mode": {"door": _l("door to door"), "phone": _l("telephone")},
    "state": {
        "pending": _l("pending review"),
        "approved": _l("approved"),
        "rejected": _l("rejected"),
        "sent_back": _l("sent back"),
        "all": _l("all"),
    },
    "flag": {
        "speeding": _l("too fast"),
        "straightlining": _l("same answer throughout"),
        "out_of_hours": _l("outside calling hours"),
        "out_of_area": _l("far from its locality"),
    },
    "case": {"available": _l("waiting"), "claimed": _l("in a call"), "closed": _l("closed")},
    "action": {
        "approve": _l("approved"),
        "reject": _l("rejected"),
        "send_back": _l("sent back"),
        "resubmitted": _l("corrected and sent again"),
    },
    "ci_method": {
        "logit": _l("logit (as R's svyciprop)"),
        "wilson": _l("Wilson (survey-adjusted)"),
        "beta": _l("Korn–Graubard (beta)"),
        "xlogit": _l("logit of the mean"),
        "asin": _l("arcsine"),
        "likelihood": _l("likelihood ratio"),
        "mean": _l("Wald (normal approximation)"),
    },
    "weighting": {"rake": _l("raking to census margins"), "none": _l("base weights only")},
    "margin": {"street": _l("street"), "sex": _l("sex"), "age_group": _l("age group")},
    # the question types' words, from their registry (questionnaire/types.py)
    "qtype": {name: _l(kind.word) for name, kind in KINDS.items()},
    "level": {
        "province": _l("province"),
        "city": _l("city"),
        "district": _l("district"),
        "street": _l("street"),
        "community": _l("community"),
        "grid": _l("grid"),
    },
}
_OUTCOMES = {d.aapor: d.description for d in DISPOSITIONS.values()}


def term(kind: str, code: str | None, *, with_code: bool = False) -> Markup:
    """The word for ``code`` of ``kind`` in the interface language; the code beside it on request.

    ``kind="outcome"`` takes an AAPOR code (``2.111``) and always shows it beside its words, as
    supervisors and the AAPOR rates speak in codes.
    """
    if code is None or code == "":
        return Markup("")
    if kind == "outcome":
        description = _OUTCOMES.get(code)
        if description is None:
            return escape(code)
        return (
            escape(_(description))
            + Markup(' <span class="code">')
            + escape(code)
            + Markup("</span>")
        )
    word = TERMS.get(kind, {}).get(code)
    if word is None:
        return escape(code)
    shown = escape(str(word))
    if with_code:
        shown += _code(code)
    return shown


def _code(code: str) -> Markup:
    return Markup(" <code>") + escape(code) + Markup("</code>")


def code(text: object) -> Markup:
    """A code, identifier or file column shown as it is (not wording: never translated)."""
    return Markup("<code>") + escape(str(text)) + Markup("</code>")


def data(text: object) -> Markup:
    """Data shown as entered (a name, a user name, a questionnaire's text): not wording."""
    return Markup('<span translate="no">') + escape(str(text)) + Markup("</span>")


def person(user: object) -> Markup:
    """A user as colleagues know them: the display name, else the user name."""
    if user is None:
        return Markup("")
    name = getattr(user, "display_name", "") or getattr(user, "username", "")
    return (
        Markup('<span translate="no" title="')
        + escape(getattr(user, "username", ""))
        + Markup('">')
        + escape(name)
        + Markup("</span>")
    )


def codes(names: list[str] | tuple[str, ...]) -> Markup:
    """Several codes (file columns, values) as a list in the interface language."""
    from flask_babel import get_locale

    between = "、" if str(get_locale()).startswith("zh") else ", "
    return Markup(between).join(code(name) for name in names)


def separator() -> str:
    """What separates the items of a list of phrases in the interface language (；or ; )."""
    from flask_babel import get_locale

    return "；" if str(get_locale()).startswith("zh") else "; "
