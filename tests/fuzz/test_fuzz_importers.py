"""Fuzzing the CSV importers on generated files: a clear error naming the row, or a valid
result; never a crash, never a partial import.

* ``surveyapp localities import`` (``services.localities.import_localities``): after every
  successful import the whole tree is still a tree whose levels go strictly down (the file may
  re-import, move or re-level codes that earlier examples created); after a refused one nothing
  changed.
* the CATI call-list import (``fieldwork.cati.import_call_list``): refused lists add no case;
  accepted ones add exactly the new numbers, each under a street, community or grid of the
  survey's district.
"""

from __future__ import annotations

import csv
import io

from flask_babel import force_locale
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import LEVELS, Locality
from tests.properties import examples

SETTINGS = settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
    # Longer than the columns (32 for codes, 120 for names): PostgreSQL refuses those.
    st.sampled_from(["1" * 33, "名" * 121, "x" * 600]),
)
CODES = ["1", "11", "111", "1111", "11111", "111111", "2", "21", "211", "x", "", " 1 "]
cells = {
    "code": st.one_of(st.sampled_from(CODES), junk),
    "parent_code": st.one_of(st.sampled_from(CODES), junk),
    "level": st.one_of(st.sampled_from([*LEVELS, "", "District", "村"]), junk),
    "name_zh": st.one_of(st.sampled_from(["鼓楼区", "宁海路街道", ""]), junk),
    "name_en": junk,
    "population": st.one_of(
        st.integers(-5, 10**7).map(str), st.sampled_from(["", "1e3", "1,000"]), junk
    ),
    "pop_f_65p": st.one_of(st.integers(-5, 10**5).map(str), junk),
    "pop_x_1": junk,
}


@st.composite
def locality_files(draw) -> str:
    columns = draw(st.lists(st.sampled_from(list(cells)), min_size=0, max_size=8, unique=True))
    if draw(st.booleans()):  # usually a usable header
        columns = [
            "code",
            "parent_code",
            "level",
            "name_zh",
            *[c for c in columns if c not in ("code", "parent_code", "level", "name_zh")],
        ]
    rows = draw(st.lists(st.fixed_dictionaries({c: cells[c] for c in columns}), max_size=8))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        values = [row[c] for c in columns]
        if draw(st.integers(0, 9)) == 0:
            values.append("extra")  # more fields than columns
        writer.writerow(values)
    text = out.getvalue()
    if draw(st.integers(0, 9)) == 0:
        text = "\ufeff" + text
    return text


TREE = [
    ("1", "", "province"),
    ("11", "1", "city"),
    ("111", "11", "district"),
    ("1111", "111", "street"),
    ("11111", "1111", "community"),
    ("111111", "11111", "grid"),
    ("2", "", "province"),
    ("21", "2", "city"),
    ("211", "21", "district"),
    ("2111", "211", "street"),
]


@st.composite
def nearly_valid_locality_files(draw) -> str:
    """Rows of a consistent tree with a few cells changed: most of these are accepted."""
    rows = draw(st.lists(st.sampled_from(TREE), min_size=1, max_size=6, unique=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "parent_code", "level", "name_zh", "population"])
    for code, parent, level in rows:
        row = [code, parent, level, f"地方{code}", str(draw(st.integers(0, 10**6)))]
        if draw(st.integers(0, 3)) == 0:
            column = draw(st.integers(0, 4))
            row[column] = draw(
                st.one_of(st.sampled_from([c for c, _, _ in TREE] + list(LEVELS) + [""]), junk)
            )
        writer.writerow(row)
    return out.getvalue()


def _tree_is_valid() -> None:
    for loc in db.session.scalars(select(Locality)):
        assert loc.level in LEVELS, loc
        if loc.parent is not None:
            assert LEVELS.index(loc.parent.level) < LEVELS.index(loc.level), (loc.parent, loc)
        seen = set()
        node = loc
        while node is not None:  # no cycles
            assert node.id not in seen, loc
            seen.add(node.id)
            node = node.parent


def _snapshot() -> list[tuple]:
    return [
        (loc.code, loc.parent_id, loc.level, loc.name_zh, loc.population)
        for loc in db.session.scalars(select(Locality).order_by(Locality.code))
    ]


@SETTINGS
@given(text=st.one_of(locality_files(), nearly_valid_locality_files()))
def test_localities_import(app, ctx, text):
    from surveyapp.services.localities import LocalityImportError, import_localities

    before = _snapshot()
    try:
        result = import_localities(text, source="fuzz.csv")
    except LocalityImportError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.startswith(("第 ", "fuzz.csv")), (
                problem
            )  # names the row (Chinese by default)
        db.session.rollback()
        assert _snapshot() == before, "a refused file changed the localities"
        event("refused")
        return
    event("accepted")
    _tree_is_valid()
    for code in result.codes:
        assert db.session.scalar(select(Locality).where(Locality.code == code)) is not None


PHONES = [
    "13800138000",
    "138 0013 8000",
    "+86 138-0013-8001",
    "025-83201234",
    "83201234",
    "12345678901",
    "1380013800",
    "",
    "电话",
]


@st.composite
def call_lists(draw, codes: list[str]) -> str:
    header = draw(
        st.sampled_from(
            [["phone", "locality", "notes"]] * 3
            + [["phone", "locality"], ["locality", "phone"], ["tel", "locality"], []]
        )
    )
    good_phone = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
    good_code = st.sampled_from(codes[:3])
    rows = draw(
        st.lists(
            st.tuples(
                st.one_of(good_phone, good_phone, st.sampled_from(PHONES), junk),
                st.one_of(good_code, good_code, st.sampled_from(codes), junk),
                st.one_of(st.just(""), st.just(""), junk, st.just("x" * 600)),
            ),
            max_size=6,
        )
    )
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    for phone, code, notes in rows:
        record = {"phone": phone, "locality": code, "notes": notes, "tel": phone}
        writer.writerow([record[c] for c in header] if header else [phone, code])
    return out.getvalue()


# Codes inside the demo district (street, community, grid), the district itself, and outside.
CALL_LIST_CODES = ["320106001", "320106001001", "320106001001001", "320106", "3201", "999"]


@SETTINGS
@given(text=call_lists(CALL_LIST_CODES))
def test_cati_call_list_import(demo, ctx, text):
    from surveyapp.fieldwork.cati import import_call_list
    from surveyapp.models import Wave
    from surveyapp.models.fieldwork import CatiCase

    wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
    before = db.session.scalar(select(func.count(CatiCase.id)))
    report = import_call_list(wave, text, source="calls.csv")
    after = db.session.scalar(select(func.count(CatiCase.id)))
    if report.problems:
        for problem in report.problems:
            assert problem.startswith("calls.csv:"), problem
        assert after == before, "a refused call list added cases"
        event("refused")
        return
    event("accepted")
    assert after == before + report.created
    district = wave.survey.district
    for case in db.session.scalars(select(CatiCase)):
        locality = db.session.get(Locality, case.locality_id)
        assert locality.is_within(district) and locality.level in ("street", "community", "grid")
    phones = db.session.scalars(select(CatiCase.phone).where(CatiCase.wave_id == wave.id)).all()
    assert len(phones) == len(set(phones)), "a number listed twice for one wave"


def test_too_long_values_are_refused_by_row(app, ctx):
    """Found on PostgreSQL (which enforces VARCHAR lengths): a too long code or name made the
    import fail with a database error instead of naming the row."""
    from surveyapp.services.localities import LocalityImportError, import_localities

    text = (
        "code,parent_code,level,name_zh,name_en\n"
        + "1" * 33
        + ",,province,省,\n"
        + "2,,province,"
        + "名" * 121
        + ",Province\n"
    )
    try:
        with force_locale("en"):
            import_localities(text)
    except LocalityImportError as error:
        assert error.problems == [
            "row 2: column 'code' is longer than 32 characters",
            "row 3: column 'name_zh' is longer than 120 characters",
        ]
    else:
        raise AssertionError("accepted")
    db.session.rollback()
    assert _snapshot() == []


def test_relevelling_a_locality_above_its_stored_children_is_refused(app, ctx):
    """Found while writing the tree invariant above: a re-import that turned a street into a
    grid left its stored communities below a grid."""
    from surveyapp.services.localities import LocalityImportError, import_localities

    header = "code,parent_code,level,name_zh\n"
    import_localities(
        header + "1,,province,省\n11,1,city,市\n111,11,district,区\n"
        "1111,111,street,街道\n11111,1111,community,社区\n"
    )
    before = _snapshot()
    try:
        with force_locale("en"):
            import_localities(header + "1111,111,grid,街道\n", source="relevel.csv")
    except LocalityImportError as error:
        assert error.problems == [
            "row 2: '1111' cannot become a grid: the community '11111' lies below it"
        ]
    else:
        raise AssertionError("the re-levelling import was accepted")
    db.session.rollback()
    assert _snapshot() == before
    # Moving the child in the same file makes the change consistent, and it is accepted.
    import_localities(header + "1111,111,community,街道\n11111,1111,grid,社区\n")
    _tree_is_valid()
