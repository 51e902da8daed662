"""Codes stored in the database, shown to people as words (with the code where supervisors need it).

One table for the whole interface: modes, review states, quality flags, telephone case states and
call outcomes. A code not in the table is shown as it is (it is data, not wording).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..fieldwork.dispositions import DISPOSITIONS

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
    return Markup(' <span class="code">') + escape(code) + Markup("</span>")
