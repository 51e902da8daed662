"""The CSV reader behind `surveyapp estimate --data`: fast path, fallbacks and exact numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.estimation.tabular import TabularError, read_columns
from tests.properties import examples

PLAIN = "id,street,w,y\n1,鼓楼,1.5,1\n2,华侨路,2,\n3,鼓楼,0.25,NA\n4, 华侨路 ,3e1,2\n"


def write(tmp_path: Path, text: str | bytes, name: str = "d.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def read(path: Path) -> tuple[int, dict]:
    return read_columns(path, numeric=["w"], labels=["street", "y"])


def test_plain_file(tmp_path: Path) -> None:
    n, cols = read(write(tmp_path, PLAIN))
    assert n == 4
    assert cols["w"].tolist() == [1.5, 2.0, 0.25, 30.0]
    street = cols["street"]
    assert list(street.as_array()) == ["鼓楼", "华侨路", "鼓楼", "华侨路"]  # stripped
    assert list(cols["y"].as_array()) == ["1", None, None, "2"]  # empty and NA are missing


@pytest.mark.parametrize(
    "variant",
    [
        PLAIN.replace("\n", "\r\n"),  # Windows line ends
        "\ufeff" + PLAIN,  # Excel's UTF-8 byte order mark
        PLAIN.rstrip("\n"),  # no final newline
        PLAIN.replace("鼓楼,", '"鼓楼",'),  # quoted fields: the csv module path
    ],
    ids=["crlf", "bom", "no-final-newline", "quoted"],
)
def test_variants_read_the_same(tmp_path: Path, variant: str) -> None:
    n, cols = read(write(tmp_path, variant))
    n0, ref = read(write(tmp_path, PLAIN, "ref.csv"))
    assert n == n0
    assert cols["w"].tolist() == ref["w"].tolist()
    for c in ("street", "y"):
        assert list(cols[c].as_array()) == list(ref[c].as_array())


def test_quoted_field_with_comma(tmp_path: Path) -> None:
    n, cols = read_columns(
        write(tmp_path, 'street,w\n"Gulou, north",1\nB,2\n'), numeric=["w"], labels=["street"]
    )
    assert n == 2 and list(cols["street"].as_array()) == ["Gulou, north", "B"]


def test_large_file_spans_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import surveyapp.estimation.tabular as tabular

    monkeypatch.setattr(tabular, "_CHUNK_BYTES", 64)
    rows = [f"{i},s{i % 7},{i / 8},{i % 3}" for i in range(500)]
    n, cols = read(write(tmp_path, "id,street,w,y\n" + "\n".join(rows) + "\n"))
    assert n == 500
    assert cols["w"].tolist() == [i / 8 for i in range(500)]
    assert list(cols["street"].as_array()) == [f"s{i % 7}" for i in range(500)]


def test_header_only(tmp_path: Path) -> None:
    n, cols = read(write(tmp_path, "id,street,w,y\n"))
    assert n == 0 and cols["w"].size == 0


def test_errors_name_the_place(tmp_path: Path) -> None:
    with pytest.raises(TabularError, match=r"row 2 \(line 3\) has 3 fields, the header has 4"):
        read(write(tmp_path, "id,street,w,y\n1,a,1,1\n2,b,1\n"))
    with pytest.raises(TabularError, match=r"row 1 \(line 2\): column 'w' has '1,5'"):
        read(write(tmp_path, 'id,street,w,y\n1,a,"1,5",1\n'))
    with pytest.raises(TabularError, match="no column 'w'"):
        read(write(tmp_path, "id,street,weight,y\n1,a,1,1\n"))
    with pytest.raises(TabularError, match="not UTF-8"):
        read(write(tmp_path, b"id,street,w,y\n1,\xff\xfe,1,1\n"))
    with pytest.raises(TabularError, match="no such file"):
        read(tmp_path / "absent.csv")
    with pytest.raises(TabularError, match="directory"):
        read(tmp_path)


finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
decimals = st.from_regex(r"[+-]?[0-9]{0,9}(\.[0-9]{0,9})?", fullmatch=True).filter(
    lambda s: any(c.isdigit() for c in s)
)


@settings(max_examples=examples(200), deadline=None)
@given(st.lists(st.one_of(finite_floats.map(repr), decimals), min_size=1, max_size=40))
def test_numbers_are_parsed_exactly(values: list[str]) -> None:
    """Whatever the path (vectorised or float()), a number reads as Python's float() does."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "n.csv"
        path.write_text("x\n" + "\n".join(values) + "\n", encoding="utf-8")
        n, cols = read_columns(path, numeric=["x"])
    assert n == len(values)
    got = cols["x"]
    for text, value in zip(values, got.tolist(), strict=True):
        expected = float(text)
        assert value == expected and math.copysign(1, value) == math.copysign(1, expected), text


@settings(max_examples=examples(100), deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters=',"\r\n', blacklist_categories=("Cs",)),
            min_size=1,
            max_size=30,
        ).filter(lambda s: s.strip() not in ("", "NA")),
        min_size=1,
        max_size=60,
    )
)
def test_labels_round_trip(labels: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "l.csv"
        path.write_text("x\n" + "\n".join(labels) + "\n", encoding="utf-8")
        n, cols = read_columns(path, labels=["x"])
    assert n == len(labels)
    assert list(cols["x"].as_array()) == [s.strip() for s in labels]
    assert np.all(cols["x"].codes >= 0)
