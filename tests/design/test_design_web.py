"""The designer through the test client: flows, immutability on every route, translations,
preview with fallback and right-to-left, access rules, planning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from surveyapp.extensions import db
from surveyapp.models import Assignment, QuestionnaireVersion, Survey, User, Wave
from surveyapp.models.fieldwork import Quota
from surveyapp.questionnaire import validate_text
from surveyapp.services.questionnaires import store_questionnaire

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "questionnaire" / "data" / "minimal.yaml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def manager(demo, ctx, client, auth):
    response = auth.login("manager", "manager-demo-2026")
    assert response.status_code in (200, 302)
    return client


def _version(slug: str, number: int) -> QuestionnaireVersion:
    db.session.expire_all()
    return db.session.scalar(
        select(QuestionnaireVersion).where(
            QuestionnaireVersion.slug == slug, QuestionnaireVersion.version == number
        )
    )


def _new_questionnaire(client) -> int:
    response = client.post(
        "/design/new", data={"slug": "night-safety", "title_zh": "夜间安全", "title_en": "Night"}
    )
    assert response.status_code == 302
    version_id = int(re.search(r"/design/v/(\d+)", response.headers["Location"]).group(1))
    response = client.post(
        f"/design/v/{version_id}/group",
        data={"id": "main", "title-zh_CN": "主要问题", "title-en": "Main", "relevant": ""},
    )
    assert response.status_code == 302
    response = client.post(
        f"/design/v/{version_id}/question",
        data={
            "group": "main",
            "id": "safe",
            "type": "single",
            "required": "1",
            "label-zh_CN": "晚上安全吗？",
            "label-en": "Safe at night?",
            "choice-0-code": "1",
            "choice-0-label-zh_CN": "安全",
            "choice-0-label-en": "Safe",
            "choice-1-code": "2",
            "choice-1-label-zh_CN": "不安全",
            "choice-1-label-en": "Unsafe",
            "choice-2-code": "",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/design/v/{version_id}/question",
        data={
            "group": "main",
            "id": "why",
            "type": "multiple",
            "required": "1",
            "label-zh_CN": "为什么？",
            "label-en": "Why?",
            "relevant": "${safe} = 2",
            "choice-0-code": "dark",
            "choice-0-label-zh_CN": "太黑",
            "choice-0-label-en": "Too dark",
            "choice-1-code": "none",
            "choice-1-label-zh_CN": "没有",
            "choice-1-label-en": "Nothing",
            "choice-1-exclusive": "1",
        },
    )
    assert response.status_code == 302
    return version_id


def test_designer_flow_create_publish_and_next_version(manager):
    client = manager
    index = client.get("/design/").get_data(as_text=True)
    assert "public-security-satisfaction" in index
    assert "/design/surveys/1/plan" in index  # the demo survey is the manager's
    version_id = _new_questionnaire(client)
    page = client.get(f"/design/v/{version_id}").get_data(as_text=True)
    assert "没有问题" in page
    db.session.expire_all()
    draft = db.session.get(QuestionnaireVersion, version_id)
    assert draft.status == "draft"
    schema = draft.schema
    assert schema.questions["why"].relevant.source == "${safe} = 2"
    assert schema.questions["why"].choice("none").exclusive
    assert schema.relevant_questions({"safe": "1"}) == ["safe"]

    response = client.post(
        f"/design/v/{version_id}/result?kind=indicators",
        data={
            "id": "night_security",
            "label-zh_CN": "夜间安全感",
            "label-en": "Night security",
            "question": "safe",
            "positive": "1",
            "excluded": "",
            "target": "0.9",
        },
    )
    assert response.status_code == 302
    assert client.post(f"/design/v/{version_id}/publish").status_code == 302
    db.session.expire_all()
    published = db.session.get(QuestionnaireVersion, version_id)
    assert published.status == "published" and published.published_at is not None
    assert published.schema.indicators[0].positive == ("1",)

    # Editing a published questionnaire starts the draft of version 2.
    response = client.post(f"/design/v/{version_id}/edit")
    next_id = int(re.search(r"/design/v/(\d+)", response.headers["Location"]).group(1))
    assert next_id != version_id
    assert _version("night-safety", 2).status == "draft"
    # Change the positive codes: the diff says the indicator is no longer comparable.
    response = client.post(
        f"/design/v/{next_id}/result?kind=indicators",
        data={
            "rid": "night_security",
            "id": "night_security",
            "label-zh_CN": "夜间安全感",
            "label-en": "Night security",
            "question": "safe",
            "positive": "1 2",
        },
    )
    assert response.status_code == 302
    diff = client.get(f"/design/diff?old={version_id}&new={next_id}").get_data(as_text=True)
    assert (
        "indicator &#39;night_security&#39; is not comparable: "
        "positive codes changed from [1] to [1, 2]" in diff
    )
    versions = client.get("/design/versions?slug=night-safety").get_data(as_text=True)
    assert "v2" in versions and "v1" in versions


MUTATING = [
    ("post", "/design/v/{id}/group", {"id": "x", "title-zh_CN": "x", "title-en": "x"}),
    ("post", "/design/v/{id}/group-action", {"gid": "screening", "action": "up"}),
    ("post", "/design/v/{id}/group-action", {"gid": "screening", "action": "delete"}),
    ("post", "/design/v/{id}/question", {"group": "screening", "id": "q", "type": "text"}),
    ("post", "/design/v/{id}/question-action", {"qid": "resident_6m", "action": "down"}),
    ("post", "/design/v/{id}/question-action", {"qid": "resident_6m", "action": "delete"}),
    ("post", "/design/v/{id}/result?kind=indicators", {"id": "x", "question": "resident_6m"}),
    ("post", "/design/v/{id}/result-delete", {"kind": "indicators", "rid": "security"}),
    ("post", "/design/v/{id}/translations", {"t|title|en": "Changed"}),
    ("post", "/design/v/{id}/languages", {"code": "ug", "name": "ئۇيغۇرچە", "rtl": "1"}),
    ("post", "/design/v/{id}/text", {"source": "id: x\n"}),
    ("post", "/design/v/{id}/publish", {}),
    ("post", "/design/v/{id}/delete", {}),
]


@pytest.mark.parametrize("method, url, data", MUTATING)
def test_published_version_cannot_change_through_any_route(manager, method, url, data):
    version = _version("public-security-satisfaction", 1)
    before = (version.source_text, version.sha256, version.status, version.published_at)
    response = getattr(manager, method)(url.format(id=version.id), data=data)
    assert response.status_code == 409
    assert "已发布，不能修改" in response.get_data(as_text=True)
    db.session.expire_all()
    version = _version("public-security-satisfaction", 1)
    assert (version.source_text, version.sha256, version.status, version.published_at) == before
    assert db.session.scalar(select(func.count()).select_from(QuestionnaireVersion)) == 1


def test_every_design_route_declares_roles(app):
    views = {
        rule.endpoint: app.view_functions[rule.endpoint]
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("design.")
    }
    assert len(views) >= 20
    for endpoint, view in views.items():
        assert getattr(view, "allowed_roles", None) == ("admin", "manager"), endpoint


@pytest.mark.parametrize(
    "user, password",
    [
        ("official", "official-demo-2026"),
        ("enumerator", "enumerator-demo-2026"),
    ],
)
def test_other_roles_are_refused(demo, ctx, client, auth, user, password):
    auth.login(user, password)
    assert client.get("/design/").status_code == 403
    assert client.post("/design/new", data={"slug": "x", "title_zh": "x"}).status_code == 403


def test_drafts_belong_to_their_manager(manager, auth, client):
    version_id = _new_questionnaire(client)
    auth.logout()
    db.session.add(
        User(
            username="manager2",
            role="manager",
            display_name="M2",
            password_hash=db.session.scalar(
                select(User.password_hash).where(User.username == "manager")
            ),
        )
    )
    db.session.commit()
    auth.login("manager2", "manager-demo-2026")
    assert client.get(f"/design/v/{version_id}").status_code == 403
    assert client.post(f"/design/v/{version_id}/publish").status_code == 403
    index = client.get("/design/")
    assert index.status_code == 200
    # Another manager's survey: no plan link, and the plan page is refused.
    assert "/plan" not in index.get_data(as_text=True)
    assert client.get("/design/surveys/1/plan").status_code == 403


def test_live_check_uses_the_validate_messages(manager):
    client = manager
    version_id = _new_questionnaire(client)
    response = client.post(
        f"/design/v/{version_id}/question?check=1",
        data={
            "group": "main",
            "id": "later",
            "type": "yesno",
            "label-zh_CN": "后来？",
            "relevant": "${nothing} = 'yes'",
        },
    )
    assert response.status_code == 200
    problems = response.get_json()["problems"]
    assert len(problems) == 2
    # in the designer's language (Chinese), with the file, line and field of validate
    assert re.fullmatch(
        r"night-safety\.yaml:\d+: groups\[0\]\.questions\[2\]\.label: 缺少 en 译文",
        problems[0],
    )
    assert re.fullmatch(
        r"night-safety\.yaml:\d+: groups\[0\]\.questions\[2\]\.relevant: "
        r"未知的题目“nothing”",
        problems[1],
    )
    # Nothing was saved by the check.
    assert "later" not in db.session.get(QuestionnaireVersion, version_id).source_text
    # The same messages as validate_text on the saved text.
    text = db.session.get(QuestionnaireVersion, version_id).source_text
    check = client.post(f"/design/v/{version_id}/check", data={"source": text + "foo: 1\n"})
    expected = [
        p.as_text().translated()
        for p in validate_text(text + "foo: 1\n", source="night-safety.yaml")
    ]
    assert check.get_json()["problems"] == expected and expected


def test_bad_input_is_a_4xx_naming_the_field_and_changes_nothing(manager):
    client = manager
    version_id = _new_questionnaire(client)
    before = db.session.get(QuestionnaireVersion, version_id).source_text
    cases = [
        (
            {"group": "main", "id": "n", "type": "integer", "label-zh_CN": "x", "min": "ten"},
            "min 必须是整数，而不是「ten」",  # in the interface language
        ),
        (
            {"group": "main", "id": "safe", "type": "text", "label-zh_CN": "x"},
            "已有题目“safe”",  # in the interface language
        ),
        (
            {"group": "main", "id": "2bad", "type": "text"},
            "题目编号“2bad”必须由字母、数字和下划线组成",
        ),
        ({"group": "main", "id": "x", "type": "weird"}, "请选择题型（可选："),
        ({"group": "nope", "id": "x", "type": "text"}, "没有题组“nope”"),
    ]
    for data, message in cases:
        response = client.post(f"/design/v/{version_id}/question", data=data)
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), message
    response = client.post(f"/design/v/{version_id}/text", data={"source": "id: [unclosed\n"})
    assert response.status_code == 400
    assert "YAML 语法错误" in response.get_data(as_text=True)
    assert client.get("/design/v/999999").status_code == 404
    assert db.session.get(QuestionnaireVersion, version_id).source_text == before


def test_translations_highlight_missing_and_preview_falls_back_marked(manager):
    client = manager
    version_id = _new_questionnaire(client)
    response = client.post(
        f"/design/v/{version_id}/languages", data={"code": "ug", "name": "ئۇيغۇرچە", "rtl": "1"}
    )
    assert response.status_code == 302
    page = client.get(f"/design/v/{version_id}/translations").get_data(as_text=True)
    # title, group title, 2 question labels, 4 option labels: 8 texts, none in Uyghur yet.
    assert page.count('<td class="untranslated" translate="no">') == 8
    response = client.post(
        f"/design/v/{version_id}/translations",
        data={"t|groups[0].questions[0].label|ug": "كەچتە بىخەتەرمۇ؟"},
    )
    assert response.status_code == 302
    page = client.get(f"/design/v/{version_id}/translations").get_data(as_text=True)
    assert page.count('<td class="untranslated" translate="no">') == 7

    preview = client.get(f"/design/v/{version_id}/preview?language=ug").get_data(as_text=True)
    assert 'lang="ug" dir="rtl"' in preview
    assert '<span translate="no">كەچتە بىخەتەرمۇ؟</span></legend>' in preview
    # Untranslated: the Chinese text, marked, never blank.
    assert (
        '<legend class="fallback" title="尚未翻译"><span translate="no">为什么？</span></legend>'
        in preview
    )
    assert re.search(
        r'<span class="fallback" title="尚未翻译">\s*<span translate="no">太黑</span></span>',
        preview,
    )
    # The skip logic travels with the page for conditions.js.
    assert 'data-relevant=\'{"format": 1, "source": "${safe} = 2"' in preview
    english = client.get(f"/design/v/{version_id}/preview?language=en").get_data(as_text=True)
    assert "Safe at night?</span></legend>" in english and 'dir="rtl"' not in english
    assert client.get(f"/design/v/{version_id}/preview?language=fr").status_code == 404
    # The draft cannot be published while Uyghur is missing.
    assert client.post(f"/design/v/{version_id}/publish").status_code == 409


def doc_language_name(doc: dict, code: str) -> str:
    return next(lang["name"] for lang in doc["languages"] if lang["code"] == code)


def test_interview_in_a_right_to_left_language(demo, ctx, client, auth):
    """A questionnaire with Uyghur is sent to the offline app marked right to left."""
    version, _ = store_questionnaire(MINIMAL.read_text(encoding="utf-8"), str(MINIMAL))
    survey = db.session.scalar(select(Survey))
    enumerator = db.session.scalar(select(User).where(User.username == "enumerator"))
    assignment = db.session.scalar(
        select(Assignment).where(Assignment.enumerator_id == enumerator.id)
    )
    new_survey = Survey(
        name="RTL",
        questionnaire_version_id=version.id,
        district_id=survey.district_id,
        modes="door",
        settings={},
    )
    db.session.add(new_survey)
    db.session.flush()
    wave = Wave(survey_id=new_survey.id, code="2026-Q4", name="Q4", position=0)
    db.session.add(wave)
    db.session.flush()
    db.session.add(
        Assignment(
            wave_id=wave.id,
            enumerator_id=enumerator.id,
            locality_id=assignment.locality_id,
            mode="door",
            target=5,
        )
    )
    db.session.commit()
    new_assignment = db.session.scalar(select(Assignment).where(Assignment.wave_id == wave.id))
    auth.login("enumerator", "enumerator-demo-2026")
    # The offline app gets the language marked right to left with its texts; static/js/offline.js
    # sets dir="rtl" and lang="ug" on the interview screens of such a language.
    listed = client.get("/api/v1/assignments").get_json()["assignments"]
    mine = next(a for a in listed if a["id"] == new_assignment.id)
    doc = client.get(f"/api/v1/questionnaires/{mine['questionnaire']['version_id']}").get_json()
    assert {"code": "ug", "name": doc_language_name(doc, "ug"), "rtl": True} in doc["languages"]
    labels = [q["label"].get("ug", "") for g in doc["groups"] for q in g["questions"]]
    assert "شەرتكە ئۇيغۇنمۇ؟" in labels


def test_import_upload_xlsform_starts_a_draft(manager):
    client = manager
    with open(DATA / "odk_community_safety.xlsx", "rb") as handle:
        response = client.post(
            "/design/import",
            data={"file": (handle, "odk_community_safety.xlsx")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302
    draft = _version("community-safety", 3)
    assert draft.status == "draft" and draft.schema.questions["age"].type == "integer"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“start”元数据作为访问的过程数据保存" in page
    with open(DATA / "unsupported.xlsx", "rb") as handle:
        response = client.post(
            "/design/import",
            data={"file": (handle, "unsupported.xlsx")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 400


def test_export_downloads(manager):
    version = _version("public-security-satisfaction", 1)
    response = manager.get(f"/design/v/{version.id}/export.yaml")
    assert response.status_code == 200 and response.get_data(as_text=True) == version.source_text
    response = manager.get(f"/design/v/{version.id}/export.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert manager.get(f"/design/v/{version.id}/export.pdf").status_code == 404


def test_sample_and_quota_plan(manager):
    survey = db.session.scalar(select(Survey))
    page = manager.get(f"/design/surveys/{survey.id}/plan?margin=0.05&p=0.9&deff=1.5")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<tr>\n      <td>") == 13  # the 13 streets of the demo district
    assert manager.get(f"/design/surveys/{survey.id}/plan?margin=abc").status_code == 400
    wave = survey.waves[0]
    response = manager.post(
        f"/design/surveys/{survey.id}/plan",
        data={
            "margin": "0.05",
            "p": "0.9",
            "deff": "1.5",
            "level": "0.95",
            "method": "logit",
            "wave": str(wave.id),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    plan = db.session.get(Survey, survey.id).settings["plan"]
    totals = {
        q.locality_id: q.target
        for q in db.session.scalars(
            select(Quota).where(Quota.wave_id == wave.id, Quota.sex == "", Quota.age_group == "")
        )
    }
    assert len(totals) == 13 and sorted(plan["targets"].values()) == sorted(totals.values())
    for street_id, total in totals.items():
        cells = db.session.scalars(
            select(Quota.target).where(
                Quota.wave_id == wave.id, Quota.locality_id == street_id, Quota.sex != ""
            )
        ).all()
        assert sum(cells) == total


def test_refusals_render_the_page_a_browser_stays_on(manager):
    """A refused action answers its page with the problem and an error status, never a redirect.

    Browsers do not follow a redirect that carries a 4xx status: they showed Werkzeug's English
    "Redirecting..." page instead of the designer.
    """
    client = manager
    version_id = _new_questionnaire(client)
    client.post(f"/design/v/{version_id}/languages", data={"code": "ug", "name": "ئۇيغۇرچە"})
    refusals = [
        (f"/design/v/{version_id}/publish", {}, 409),
        (f"/design/v/{version_id}/group-action", {"gid": "main", "action": "delete"}, 400),
        ("/design/import", {}, 400),
    ]
    for url, data, status in refusals:
        response = client.post(url, data=data)
        body = response.get_data(as_text=True)
        assert response.status_code == status, url
        assert "Location" not in response.headers, url
        assert "Redirecting" not in body and "<form" in body, url
        assert 'class="flash flash-error"' in body, url


def test_times_are_shown_in_the_survey_time_zone_with_the_zone_named(manager):
    """The designer showed UTC while the review queue showed Beijing time."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    version = _version("public-security-satisfaction", 1)
    local = version.published_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    page = manager.get(f"/design/versions?slug={version.slug}").get_data(as_text=True)
    assert f"{local:%Y-%m-%d %H:%M}" in page
    assert "本页时间均为中国时间（Asia/Shanghai）。" in page


def test_a_question_is_inserted_where_the_manager_chooses(manager):
    """A new question always went to the end of its group."""
    client = manager
    version_id = _new_questionnaire(client)  # main: safe, why

    def order() -> list[str]:
        version = db.session.get(QuestionnaireVersion, version_id)
        db.session.refresh(version)
        return [q.id for q in version.schema.groups[0].questions]

    def add(name: str, **extra: str):
        data = {"group": "main", "id": name, "type": "text", "label-zh_CN": name, "label-en": name}
        return client.post(f"/design/v/{version_id}/question", data={**data, **extra})

    assert order() == ["safe", "why"]
    assert add("first", after="^").status_code == 302
    assert add("middle", after="safe").status_code == 302
    assert add("last").status_code == 302
    assert order() == ["first", "safe", "middle", "why", "last"]
    # An existing question moves after another one; left alone, it stays where it is.
    moved = add("last", qid="last", after="first")
    assert moved.status_code == 302
    assert add("why", qid="why").status_code == 302
    assert order() == ["first", "last", "safe", "middle", "why"]
    # A place outside the group is refused with a message, nothing saved.
    refused = add("nowhere", after="no_such_question")
    assert refused.status_code == 400
    assert "no_such_question" in refused.get_data(as_text=True)
    assert order() == ["first", "last", "safe", "middle", "why"]
    # The edit page offers "insert after" for every question.
    page = client.get(f"/design/v/{version_id}").get_data(as_text=True)
    assert f"/design/v/{version_id}/question?group=main&amp;after=safe" in page


def test_a_refused_publication_is_worded_in_chinese(manager):
    """services/design.py's refusal (a draft with problems) reaches a Chinese manager in Chinese."""
    client = manager
    response = client.post(
        "/design/new", data={"slug": "night-safety", "title_zh": "夜间安全", "title_en": "Night"}
    )
    version_id = int(re.search(r"/design/v/(\d+)", response.headers["Location"]).group(1))
    refused = client.post(f"/design/v/{version_id}/publish", follow_redirects=True)
    page = refused.get_data(as_text=True)
    assert "个问题，请先修正再发布：" in page, page
    assert "fix them before publishing" not in page
    assert db.session.get(QuestionnaireVersion, version_id).status == "draft"
