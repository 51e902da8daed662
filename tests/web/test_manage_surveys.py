"""调查管理: survey and wave pages, settings versions, and release gating for officials."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import AuditEvent, Survey, User, Wave
from surveyapp.models.reports import ReportJob
from surveyapp.services.waves import release_wave

MANAGER, OFFICIAL = ("manager", "manager-demo-2026"), ("official", "official-demo-2026")
BASE = "/officials/surveys/1/waves/2026-Q4"


def _survey_form(**changes) -> dict:
    form = {
        "name": "玄武区安全感调查",
        "questionnaire": "public-security-satisfaction@1",
        "district": "320106",
        "modes": ["door"],
        "owner": "manager",
        "design.strata": "street",
        "design.cluster": "community",
        "weighting.method": "rake",
        "weighting.margins": ["street", "sex"],
        "ci_method": "beta",
        "level": "0.9",
        "reports.min_reliable_n": "25",
        "reports.warnings.bottom": "3",
        "fieldwork.calling_hours": "08:30-20:00",
    }
    form.update(changes)
    return form


def test_a_manager_creates_a_survey_and_runs_a_wave(demo, client, auth):
    auth.login(*MANAGER)
    assert "调查管理" in client.get("/manage/").get_data(as_text=True)
    assert client.get("/manage/surveys/new").status_code == 200
    made = client.post("/manage/surveys/new", data=_survey_form())
    assert made.status_code == 302, made.get_data(as_text=True)
    with demo.app_context():
        survey = db.session.scalar(select(Survey).where(Survey.name == "玄武区安全感调查"))
        assert survey.mode_list == ["door"] and survey.created_by.username == "manager"
        assert survey.settings["weighting"] == {"method": "rake", "margins": ["street", "sex"]}
        assert survey.settings["reports"] == {"min_reliable_n": 25, "warnings": {"bottom": 3}}
        assert survey.settings["fieldwork"] == {"calling_hours": "08:30-20:00"}
        assert survey.settings["level"] == 0.9
        sid = survey.id
    page = client.get(f"/manage/surveys/{sid}")
    assert page.status_code == 200
    wave = client.post(
        f"/manage/surveys/{sid}/waves/new",
        data={"code": "2027-Q1", "start": "2027-01-01", "end": "2027-03-31", "name": "一季度"},
    )
    assert wave.status_code == 302
    bad = client.post(
        f"/manage/surveys/{sid}/waves/new",
        data={"code": "2027-Q2", "start": "2027-04-01", "end": "2027-03-01"},
    )
    assert bad.status_code == 400
    assert "早于" in bad.get_data(as_text=True)  # 结束日期早于开始日期
    with demo.app_context():
        wave_id = db.session.scalar(select(Wave.id).where(Wave.survey_id == sid))
        assert db.session.query(Wave).filter_by(survey_id=sid).count() == 1
    confirm = client.get(f"/manage/waves/{wave_id}/open")
    assert confirm.status_code == 200 and "确认" in confirm.get_data(as_text=True)
    with demo.app_context():
        assert db.session.get(Wave, wave_id).state == "planned"  # GET only asks
    assert client.post(f"/manage/waves/{wave_id}/open").status_code == 302
    refused = client.post(f"/manage/waves/{wave_id}/reopen")
    assert refused.status_code == 409 and "不是已关闭" in refused.get_data(as_text=True)
    assert client.post(f"/manage/waves/{wave_id}/close").status_code == 302
    assert client.post(f"/manage/waves/{wave_id}/release").status_code == 302
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        assert (wave.state, wave.is_released, wave.released_by.username) == (
            "closed",
            True,
            "manager",
        )
        events = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == f"survey {sid} wave 2027-Q1")
        ).all()
        assert events == ["wave_created", "wave_opened", "wave_closed", "wave_released"]
    assert client.get(f"/manage/waves/{wave_id}/explode").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "1 到 200 个字符"),
        ({"district": "320106001"}, "district", "不是区县"),
        ({"modes": []}, "modes", "调查方式"),
        ({"owner": "enumerator"}, "owner", "没有名为"),
        ({"level": "95%"}, "level", "不是数字"),
        ({"level": "1.5"}, "level", "置信水平"),
        ({"ci_method": "magic"}, "ci_method", "magic"),
        ({"weighting.margins": []}, "weighting.margins", "至少需要一个"),
        ({"design.cluster": "street"}, "design.cluster", "street"),
        ({"reports.min_reliable_n": "many"}, "reports.min_reliable_n", "不是数字"),
        ({"fieldwork.calling_hours": "9 to 5"}, "fieldwork", "不是 09:00-21:00 这样的时间范围"),
        ({"reports.warnings.bottom": "-1"}, "reports", "bottom"),
        ({"questionnaire": "nope@3"}, "questionnaire", "nope"),
    ],
)
def test_bad_survey_forms_are_400_in_chinese_and_store_nothing(
    demo, client, auth, changes, field, words
):
    auth.login(*MANAGER)
    response = client.post("/manage/surveys/new", data=_survey_form(**changes))
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body
    assert f'data-field="{field}"' in body
    assert words in body
    with demo.app_context():
        assert db.session.query(Survey).count() == 1


def test_a_settings_change_after_responses_is_a_new_version(demo, client, auth, runner):
    auth.login(*MANAGER)
    form = client.get("/manage/surveys/1/edit")
    assert form.status_code == 200 and "设置版本" in form.get_data(as_text=True)
    changed = _survey_form(
        name="鼓楼区群众安全感满意度调查",
        modes=["door", "phone"],
        **{"weighting.margins": ["street", "sex", "age_group"]},
    )
    changed.pop("questionnaire")
    assert client.post("/manage/surveys/1/edit", data=changed).status_code == 302
    with demo.app_context():
        survey = db.session.get(Survey, 1)
        assert survey.settings_version == 2 and survey.settings["ci_method"] == "beta"
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "survey_settings_changed")
        )
        assert (event.detail["previous_version"], event.detail["settings_version"]) == (1, 2)
        assert event.detail["before"]["ci_method"] == "logit"
        assert event.detail["after"]["ci_method"] == "beta"
    # the same form again changes nothing: no new version
    assert client.post("/manage/surveys/1/edit", data=changed).status_code == 302
    with demo.app_context():
        assert db.session.get(Survey, 1).settings_version == 2
    estimate = runner.invoke(
        args=["estimate", "--survey", "1", "--wave", "2026-Q4", "--format", "json"]
    )
    assert estimate.exit_code == 0, estimate.output
    doc = json.loads(estimate.stdout)
    assert doc["settings_version"] == 2 and doc["settings"]["settings_version"] == 2
    xlsx = client.get(f"{BASE}/estimates.xlsx")
    assert xlsx.status_code == 200
    import io

    import openpyxl

    about = openpyxl.load_workbook(io.BytesIO(xlsx.data))["about"]
    assert dict((r[0].value, r[1].value) for r in about.iter_rows())["settings version"] == "2"


def test_a_pdf_says_which_settings_version_it_used(demo, client, auth):
    from ..reports.conftest import pdftotext

    with demo.app_context():
        survey = db.session.get(Survey, 1)
        survey.settings_version = 3
        db.session.commit()
    auth.login(*OFFICIAL)
    pdf = client.get(f"{BASE}/district.pdf")
    assert pdf.status_code == 200
    text = pdftotext(pdf.data)
    assert "设置版本 3" in text.replace("\n", " ")


# ----------------------------------------------------------------------------- releasing


def _unrelease(app) -> int:
    """The demo's current wave as if its results were never released (it has responses)."""
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.code == "2026-Q4"))
        wave.released_at = None
        wave.released_by_id = None
        official = db.session.scalar(select(User).where(User.username == "official"))
        job = ReportJob(
            id=uuid.uuid4().hex,
            kind="zip",
            user_id=official.id,
            survey_id=wave.survey_id,
            wave_id=wave.id,
            status="done",
            params={"lang": "zh_CN"},
        )
        db.session.add(job)
        db.session.commit()
        return wave.id, job.id


def test_officials_get_404_for_an_unreleased_wave(demo, client, auth):
    wave_id, job_id = _unrelease(demo)
    auth.login(*OFFICIAL)
    urls = [
        ("GET", BASE),
        ("GET", f"{BASE}/district.pdf"),
        ("GET", f"{BASE}/streets/320106001.pdf"),
        ("GET", f"{BASE}/estimates.csv"),
        ("GET", f"{BASE}/estimates.xlsx"),
        ("POST", f"{BASE}/jobs"),
        ("GET", f"/officials/jobs/{job_id}"),
        ("GET", f"/officials/jobs/{job_id}.json"),
        ("GET", f"/officials/jobs/{job_id}/download"),
        ("GET", f"/manage/waves/{wave_id}"),
    ]
    for method, url in urls:
        response = client.open(url, method=method, data={"kind": "zip"})
        assert response.status_code == 404, (url, response.status_code)
    portal = client.get("/officials/").get_data(as_text=True)
    assert "2026-Q4" not in portal and "2026年第四季度" not in portal
    assert "2026年第三季度" in portal
    overview = client.get("/manage/").get_data(as_text=True)
    assert "2026年第四季度" not in overview and "2026年第三季度" in overview
    # released: the same official sees it
    with demo.app_context():
        release_wave(db.session.get(Wave, wave_id))
    assert client.get(BASE).status_code == 200
    assert client.get(f"/officials/jobs/{job_id}.json").status_code == 200


def test_managers_see_an_unreleased_wave_live_marked(demo, client, auth):
    _unrelease(demo)
    auth.login(*MANAGER)
    page = client.get(BASE)
    assert page.status_code == 200 and "未发布" in page.get_data(as_text=True)
    assert "未发布" in client.get("/officials/").get_data(as_text=True)
    assert "未发布" in client.get("/manage/").get_data(as_text=True)
    from ..reports.conftest import pdftotext

    pdf = client.get(f"{BASE}/district.pdf")
    assert pdf.status_code == 200 and "未发布" in pdftotext(pdf.data)
    street = client.get(f"{BASE}/streets/320106001.pdf")
    assert street.status_code == 200 and "未发布" in pdftotext(street.data)
    with demo.app_context():  # released: the same report no longer says so (a new key)
        release_wave(db.session.scalar(select(Wave).where(Wave.code == "2026-Q4")))
    pdf = client.get(f"{BASE}/district.pdf")
    assert pdf.status_code == 200 and "未发布" not in pdftotext(pdf.data)


def test_estimates_work_with_any_valid_margins(demo, client, auth):
    """Raking to street and sex only once made the rank intervals refuse the covariance
    (asymmetric by rounding) and the estimates page answered 500."""
    auth.login(*MANAGER)
    changed = _survey_form(name="鼓楼区群众安全感满意度调查", modes=["door", "phone"])
    changed.pop("questionnaire")
    assert client.post("/manage/surveys/1/edit", data=changed).status_code == 302
    assert client.get(f"{BASE}/estimates.csv").status_code == 200


def test_a_wave_is_edited_on_its_page(demo, client, auth):
    auth.login(*MANAGER)
    with demo.app_context():
        wave_id = db.session.scalar(select(Wave.id).where(Wave.code == "2026-Q4"))
    assert client.get(f"/manage/waves/{wave_id}/edit").status_code == 200
    saved = client.post(
        f"/manage/waves/{wave_id}/edit",
        data={"name": "第四季度", "start": "2026-10-01", "end": "2027-01-10"},
    )
    assert saved.status_code == 302
    bad = client.post(
        f"/manage/waves/{wave_id}/edit", data={"name": "x", "start": "2027-02-01", "end": ""}
    )
    assert bad.status_code == 400 and "早于" in bad.get_data(as_text=True)
    with demo.app_context():
        wave = db.session.get(Wave, wave_id)
        assert (wave.name, str(wave.ends_on)) == ("第四季度", "2027-01-10")
