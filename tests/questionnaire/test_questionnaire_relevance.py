"""Skip logic over a whole questionnaire: group and question relevance, chained skips."""

from __future__ import annotations

import dataclasses
import textwrap

import pytest

from surveyapp.questionnaire import Questionnaire, load_questionnaire_text

CHAIN = textwrap.dedent("""\
    id: chain
    version: 1
    title: {zh_CN: 链, en: Chain}
    languages: [zh_CN, en]
    groups:
      - id: screening
        title: {zh_CN: 甄别, en: Screening}
        questions:
          - {id: adult, type: yesno, label: {zh_CN: 成年, en: Adult}}
      - id: disputes
        title: {zh_CN: 纠纷, en: Disputes}
        relevant: ${adult} = 'yes'
        questions:
          - {id: dispute, type: yesno, label: {zh_CN: 纠纷, en: Dispute}}
          - id: mediated
            type: yesno
            relevant: ${dispute} = 'yes'
            label: {zh_CN: 调解, en: Mediated}
          - id: resolved
            type: yesno
            relevant: ${mediated} = 'yes'
            label: {zh_CN: 解决, en: Resolved}
      - id: end
        title: {zh_CN: 结束, en: End}
        questions:
          - {id: note, type: text, required: false, label: {zh_CN: 备注, en: Note}}
    """)


@pytest.fixture(scope="module")
def chain() -> Questionnaire:
    return load_questionnaire_text(CHAIN, "chain.yaml")


def test_everything_relevant_along_the_chain(chain: Questionnaire) -> None:
    answers = {"adult": "yes", "dispute": "yes", "mediated": "yes"}
    assert chain.relevant_questions(answers) == [
        "adult",
        "dispute",
        "mediated",
        "resolved",
        "note",
    ]


def test_resolution_asked_only_if_mediated(chain: Questionnaire) -> None:
    assert chain.is_relevant("resolved", {"adult": "yes", "dispute": "yes", "mediated": "yes"})
    assert not chain.is_relevant("resolved", {"adult": "yes", "dispute": "yes", "mediated": "no"})
    assert not chain.is_relevant("resolved", {"adult": "yes", "dispute": "yes"})


def test_mediated_asked_only_if_dispute(chain: Questionnaire) -> None:
    assert chain.is_relevant("mediated", {"adult": "yes", "dispute": "yes"})
    assert not chain.is_relevant("mediated", {"adult": "yes", "dispute": "no"})


def test_stale_answer_of_a_skipped_question_counts_as_unanswered(chain: Questionnaire) -> None:
    # The respondent said mediated=yes, then went back and said there was no dispute.
    stale = {"adult": "yes", "dispute": "no", "mediated": "yes"}
    assert not chain.is_relevant("mediated", stale)
    assert not chain.is_relevant("resolved", stale)
    assert chain.relevant_questions(stale) == ["adult", "dispute", "note"]


def test_group_relevance_skips_all_its_questions(chain: Questionnaire) -> None:
    answers = {"adult": "no", "dispute": "yes", "mediated": "yes"}
    assert chain.relevant_questions(answers) == ["adult", "note"]
    for qid in ("dispute", "mediated", "resolved"):
        assert not chain.is_relevant(qid, answers)


def test_unanswered_screening_skips_the_group(chain: Questionnaire) -> None:
    assert chain.relevant_questions({}) == ["adult", "note"]


def test_relevant_answers_drops_stale_answers(chain: Questionnaire) -> None:
    stale = {"adult": "yes", "dispute": "no", "mediated": "yes", "resolved": "no", "x": 1}
    assert chain.relevant_answers(stale) == {"adult": "yes", "dispute": "no"}


def test_unknown_question_is_a_key_error(chain: Questionnaire) -> None:
    with pytest.raises(KeyError):
        chain.is_relevant("nope", {})


def test_questionnaire_is_immutable(chain: Questionnaire) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        chain.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        chain.questions["x"] = chain.questions["adult"]  # type: ignore[index]
    with pytest.raises(TypeError):
        chain.title["en"] = "changed"  # type: ignore[index]
    assert isinstance(chain.groups, tuple)
    assert isinstance(chain.groups[0].questions, tuple)


def test_structure(chain: Questionnaire) -> None:
    assert list(chain.questions) == ["adult", "dispute", "mediated", "resolved", "note"]
    assert chain.questions["mediated"].group_id == "disputes"
    assert chain.group("disputes").relevant is not None
    assert chain.group("disputes").relevant.source == "${adult} = 'yes'"
    assert chain.default_language == "zh_CN"
    assert chain.source_text == CHAIN
    assert len(chain.sha256) == 64
    assert hash(chain) == hash(load_questionnaire_text(CHAIN, "again.yaml"))
