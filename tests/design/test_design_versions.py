"""Drafts, publishing and version immutability (service and model)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion
from surveyapp.models.questionnaires import ImmutableVersionError
from surveyapp.questionnaire import QuestionnaireError
from surveyapp.services import design
from surveyapp.services.questionnaires import store_questionnaire

ROOT = Path(__file__).resolve().parents[2]
STANDARD = ROOT / "questionnaires" / "public-security-satisfaction.yaml"


def _small_draft():
    draft = design.create_draft("night-safety", {"zh_CN": "夜间安全", "en": "Night safety"})
    doc = design.document(draft)
    design.set_group(doc, None, "main", {"zh_CN": "主要", "en": "Main"})
    design.set_question(
        doc,
        "main",
        None,
        {
            "id": "safe",
            "type": "single",
            "label": {"zh_CN": "安全吗？", "en": "Safe?"},
            "choices": [
                {"code": "1", "label": {"zh_CN": "安全", "en": "Safe"}},
                {"code": "2", "label": {"zh_CN": "不安全", "en": "Unsafe"}},
            ],
        },
    )
    problems = design.save_document(draft, doc)
    return draft, problems


def test_new_draft_has_problems_until_it_has_a_group(ctx):
    draft = design.create_draft("night-safety", {"zh_CN": "夜间安全", "en": "Night safety"})
    assert draft.status == "draft" and draft.version == 1
    messages = [str(p) for p in design.draft_problems(draft)]
    assert any("groups" in message for message in messages), messages
    with pytest.raises(design.DesignError, match="fix them before publishing"):
        design.publish(draft)
    with pytest.raises(design.DesignError, match="exists already"):
        design.create_draft("night-safety", {"zh_CN": "再来", "en": "Again"})
    with pytest.raises(design.DesignError, match="not a questionnaire name"):
        design.create_draft("Night Safety", {"zh_CN": "x"})


def test_publish_freezes_and_edit_starts_next_version(ctx):
    draft, problems = _small_draft()
    assert problems == []
    published = design.publish(draft)
    assert published.status == "published" and published.published_at is not None
    assert published.schema.questions["safe"].codes == ("1", "2")

    with pytest.raises(design.DesignError, match="published and cannot change"):
        design.save_text(published, published.source_text + "# x\n")
    with pytest.raises(design.DesignError, match="published"):
        design.delete_draft(published)

    nxt = design.edit_version(published)
    assert (nxt.status, nxt.version, nxt.based_on_id) == ("draft", 2, published.id)
    assert design.edit_version(published).id == nxt.id  # one open draft
    with pytest.raises(design.DesignError, match="nothing changed since version 1"):
        design.publish(nxt)
    doc = design.document(nxt)
    doc["groups"][0]["questions"][0]["label"]["en"] = "Do you feel safe?"
    assert design.save_document(nxt, doc) == []
    with pytest.raises(design.DesignError, match="version must stay 2"):
        design.save_text(nxt, nxt.source_text.replace("version: 2", "version: 7"))
    design.publish(nxt)
    versions = design.versions_of("night-safety")
    assert [(v.version, v.status) for v in versions] == [(2, "published"), (1, "published")]
    # Version 1 is unchanged by all this.
    assert "Safe?" in db.session.get(QuestionnaireVersion, published.id).source_text


def test_model_refuses_changing_or_deleting_published(ctx):
    version, _ = store_questionnaire(STANDARD.read_text(encoding="utf-8"), str(STANDARD))
    version.source_text = version.source_text.replace("很安全", "非常安全")
    with pytest.raises(ImmutableVersionError, match="published and cannot change"):
        db.session.commit()
    db.session.rollback()
    version.status = "draft"
    with pytest.raises(ImmutableVersionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(version)
    with pytest.raises(ImmutableVersionError, match="cannot be deleted"):
        db.session.flush()
    db.session.rollback()
    stored = db.session.scalar(
        select(QuestionnaireVersion).where(QuestionnaireVersion.id == version.id)
    )
    assert stored.source_text == STANDARD.read_text(encoding="utf-8")


def test_import_refuses_version_held_by_a_draft(ctx):
    version, _ = store_questionnaire(STANDARD.read_text(encoding="utf-8"), str(STANDARD))
    draft = design.edit_version(version)
    with pytest.raises(QuestionnaireError, match="is a draft in the designer"):
        store_questionnaire(draft.source_text, "next.yaml")
    # Comments survive: the draft is the file with its version raised.
    assert draft.source_text.startswith("# 群众安全感满意度调查")
    assert "\nversion: 2\n" in draft.source_text


def test_translations_and_languages(ctx):
    draft, _ = _small_draft()
    doc = design.document(draft)
    design.add_language(doc, "ug", "ئۇيغۇرچە", rtl=True)
    with pytest.raises(design.DesignError, match="already declared"):
        design.add_language(doc, "ug", "x", rtl=True)
    problems = [str(p) for p in design.save_document(draft, doc)]
    assert "night-safety.yaml:3: title: missing ug translation" in problems
    assert sum("missing ug translation" in p for p in problems) == 5
    texts = dict(design.translatable_texts(doc))
    assert list(texts) == [
        "title",
        "groups[0].title",
        "groups[0].questions[0].label",
        "groups[0].questions[0].choices[0].label",
        "groups[0].questions[0].choices[1].label",
    ]
    design.set_translations(doc, {("groups[0].questions[0].label", "ug"): "بىخەتەرمۇ؟"})
    problems = [str(p) for p in design.save_document(draft, doc)]
    assert sum("missing ug translation" in p for p in problems) == 4
    with pytest.raises(design.DesignError, match="not a declared language"):
        design.set_translations(doc, {("title", "fr"): "x"})
