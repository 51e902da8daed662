"""Definition files: every problem with its line and field; versions compared."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from surveyapp.safety_index import (
    DefinitionError,
    definition_changes,
    load_definition,
    load_definition_text,
    validate_definition_text,
)

from .conftest import HAND_YAML

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_definition_is_valid_with_21_governance_indicators() -> None:
    d = load_definition(ROOT / "questionnaires" / "safety-index.yaml")
    groups = {g.id: g for g in d.groups}
    assert [g.weight for g in d.groups] == [35, 35, 30]
    assert len(groups["positive"].indicators) + len(groups["negative"].indicators) == 21
    assert all(i.source.kind == "survey" for i in groups["public"].indicators)
    assert all(i.direction == "negative" for i in groups["negative"].indicators)


def test_default_group_weights() -> None:
    text = HAND_YAML.format(missing="previous").replace("    weight: 35\n", "")
    text = text.replace("    weight: 30\n", "")
    assert [g.weight for g in load_definition_text(text).groups] == [35, 35, 30]


def problems(text: str) -> list[str]:
    return [str(p) for p in validate_definition_text(text, "idx.yaml")]


def test_problems_name_file_line_and_field() -> None:
    text = HAND_YAML.format(missing="sometimes")
    text = text.replace(
        "normalisation: {type: per_10k, caps: [0, 4]}", "normalisation: {type: per_10k}"
    )
    text = text.replace(
        "direction: negative\n        unit: 件", "direction: down\n        unit: 件"
    )
    text = text.replace("caps: [0.8, 1.0]", "caps: [1.0, 0.8]")
    text = text.replace("    weight: 30\n", "    weight: 20\n")
    lines = text.splitlines()
    found = problems(text)
    assert any(p.startswith("idx.yaml:5: missing:") and "sometimes" in p for p in found)
    per10k = next(i for i, line in enumerate(lines, 1) if "type: per_10k}" in line)
    assert any(p.startswith(f"idx.yaml:{per10k}:") and "caps" in p for p in found)
    down = next(i for i, line in enumerate(lines, 1) if "direction: down" in line)
    assert any(p.startswith(f"idx.yaml:{down}:") and ".direction" in p for p in found)
    assert any("low (1) must be below high (0.8)" in p for p in found)


def test_weights_must_sum_to_100_and_ids_unique() -> None:
    text = HAND_YAML.format(missing="previous").replace("    weight: 30\n", "    weight: 20\n")
    assert any("must sum to 100" in p and "35 + 35 + 20 = 90" in p for p in problems(text))
    text = HAND_YAML.format(missing="previous").replace("id: p_yoy", "id: p_target")
    assert any("'p_target' is already defined on line 12" in p for p in problems(text))


def test_series_and_survey_sources_are_checked() -> None:
    text = HAND_YAML.format(missing="previous")
    bad = text.replace("source: {survey: pss, item: grid}", "source: {survey: pss}")
    assert any("needs 'series'" in p for p in problems(bad))
    bad = text.replace(
        "source: {survey: pss, item: grid}\n        normalisation: {type: district}",
        "source: {survey: pss, item: grid}\n        normalisation: {type: yoy}",
    )
    assert any("needs a monthly series" in p for p in problems(bad))
    bad = text.replace("source: {series: theft}", "source: {series: vice}")
    assert problems(bad) == []  # the same series twice, same unit: allowed
    with pytest.raises(DefinitionError):
        load_definition_text("id: x\n  - broken: [", "bad.yaml")
    assert problems("") == ["idx.yaml:1: the file is empty"]


def test_changes_between_versions_are_described() -> None:
    old = load_definition_text(HAND_YAML.format(missing="previous"))
    text = HAND_YAML.format(missing="previous").replace("version: 1", "version: 2")
    text = text.replace("weight: 2\n", "weight: 3\n").replace(
        "normalisation: {type: per_10k, caps: [0, 10]}",
        "normalisation: {type: per_10k, caps: [0, 8]}",
    )
    new = load_definition_text(text)
    changes = definition_changes(old, new)
    assert "指标 民转刑案件 权重：2 → 3" in changes
    assert "指标 盗窃警情 标准化：per_10k [0, 10] → per_10k [0, 8]" in changes
    assert definition_changes(old, replace(old, version=2)) == []
    english = definition_changes(old, new, "en")
    assert any("weight: 2 -> 3" in c for c in english)


def test_one_series_has_one_unit() -> None:
    text = HAND_YAML.format(missing="previous").replace(
        "unit: 起\n        source: {series: theft}", "unit: 件\n        source: {series: vice}"
    )
    assert any("series 'vice' has unit '件'" in p and "one series has one unit" in p
               for p in problems(text))  # fmt: skip


def test_aliases_are_refused_with_their_line():
    """A definition is edited in the browser: nested aliases must not expand (billion laughs)."""
    import time

    from surveyapp.safety_index.definition import validate_definition_text

    layers = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    layers += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    started = time.perf_counter()
    problems = validate_definition_text("\n".join(layers) + "\n", "bomb.yaml")
    assert time.perf_counter() - started < 2
    assert problems and problems[0].line == 1 and "aliases" in problems[0].message
