"""Importing the locality tree from CSV: re-imports update, bad files store nothing."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Locality, LocalityPopulation
from surveyapp.services.localities import LocalityImportError, import_localities

HEADER = "code,parent_code,level,name_zh,name_en,population,pop_m_16_24,pop_f_65p\n"
GOOD = HEADER + (
    "D1,,district,示范区,Demo District,3000,,\n"
    "S1,D1,street,一号街道,Street One,2000,100,120\n"
    "S2,D1,street,二号街道,Street Two,1000,,\n"
    "C1,S1,community,东社区,East Community,2000,,\n"
    "G1,C1,grid,第1网格,Grid 1,1000,,\n"
)


def count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_import_builds_the_tree(ctx):
    result = import_localities(GOOD)
    assert (result.created, result.updated) == (5, 0)
    grid = db.session.scalar(select(Locality).where(Locality.code == "G1"))
    assert [loc.code for loc in grid.ancestors()] == ["D1", "S1", "C1", "G1"]
    assert grid.path_by_level()["street"].name_en == "Street One"
    street = db.session.scalar(select(Locality).where(Locality.code == "S1"))
    cells = {(p.sex, p.age_group): p.count for p in street.populations}
    assert cells == {("m", "16_24"): 100, ("f", "65p"): 120}


def test_reimport_updates_and_never_duplicates(ctx):
    import_localities(GOOD)
    changed = GOOD.replace("二号街道,Street Two,1000", "二号街道,Street 2,1100").replace(
        "2000,100,120", "2000,100,130"
    )
    result = import_localities(changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert count(Locality) == 5
    assert count(LocalityPopulation) == 2
    s2 = db.session.scalar(select(Locality).where(Locality.code == "S2"))
    assert (s2.name_en, s2.population) == ("Street 2", 1100)
    s1 = db.session.scalar(select(Locality).where(Locality.code == "S1"))
    assert {p.count for p in s1.populations} == {100, 130}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("S3,D1,avenue,三号,Three,10,,", "row 7: column 'level': 'avenue' is not one of"),
        ("S3,XX,street,三号,Three,10,,", "row 7: parent_code 'XX' is not a known locality"),
        ("S3,D1,street,三号,Three,ten,,", "row 7: column 'population': 'ten' is not a whole"),
        ("S1,D1,street,重复,Dup,10,,", "row 7: code 'S1' already given in row 3"),
        ("S3,G1,street,三号,Three,10,,", "row 7: a street cannot lie below a grid ('G1')"),
        (",D1,street,三号,Three,10,,", "row 7: column 'code' is empty"),
        ("S3,D1,street,,Three,10,,", "row 7: column 'name_zh' is empty"),
        ("S3,D1,street,三号,Three,-5,,", "row 7: column 'population': -5 is negative"),
    ],
)
def test_bad_row_is_named_and_nothing_is_stored(ctx, row, message):
    with force_locale("en"), pytest.raises(LocalityImportError) as info:
        import_localities(GOOD + row + "\n")
    assert any(message in p for p in info.value.problems), info.value.problems
    assert count(Locality) == 0


def test_missing_column_is_named(ctx):
    with force_locale("en"), pytest.raises(LocalityImportError) as info:
        import_localities("code,level,name_zh\nD1,district,区\n")
    assert "missing column(s) 'parent_code'" in info.value.problems[0]


def test_problems_are_in_the_interface_language(ctx):
    """Chinese by default (the command line, a Chinese user's page), English on request."""
    bad = GOOD + "S3,XX,street,三号,Three,10,,\n"
    with pytest.raises(LocalityImportError) as info:
        import_localities(bad)
    assert "第 7 行：parent_code“XX”不是已知地区" in info.value.problems
    with force_locale("en"), pytest.raises(LocalityImportError) as info:
        import_localities(bad)
    assert "row 7: parent_code 'XX' is not a known locality" in info.value.problems


def test_cli_reports_rows_and_exit_status(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "S3,D1,avenue,三号,Three,10,,\n", encoding="utf-8")
    result = runner.invoke(args=["localities", "import", str(bad)])
    assert result.exit_code == 1
    # In the interface language (Chinese by default), naming the row.
    assert "第 7 行" in result.output and "未导入任何数据" in result.output
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["localities", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "新建 5 个，更新 0 个" in result.output
    result = runner.invoke(args=["localities", "import", str(good)])
    assert "新建 0 个，更新 0 个，未变 5 个" in result.output
