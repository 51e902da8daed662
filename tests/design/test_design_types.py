"""The designer's question form is generic over the question-type registry: a decimal with
limits, a time, a geopoint, a note and a calculation are made in the form and stored as the
file format says; the form offers every type and shows each part for the types that have it."""

from __future__ import annotations

from surveyapp.extensions import db
from surveyapp.models import QuestionnaireVersion
from surveyapp.questionnaire.types import KINDS

from .test_design_web import _new_questionnaire, manager  # noqa: F401 - the fixture


def _post(client, version_id: int, **data) -> int:
    labels = {"label-zh_CN": data.pop("zh"), "label-en": data.pop("en")}
    response = client.post(
        f"/design/v/{version_id}/question", data={"group": "main", **labels, **data}
    )
    return response.status_code


def test_new_types_made_in_the_form(manager):  # noqa: F811
    client = manager
    version_id = _new_questionnaire(client)
    page = client.get(f"/design/v/{version_id}/question?group=main").get_data(as_text=True)
    for name in KINDS:
        assert f'<option value="{name}"' in page
    assert 'data-types="integer decimal"' in page  # min and max
    assert 'data-types="calculate"' in page
    assert "位置（GPS）" in page  # the type's word, translated

    assert _post(client, version_id, id="height", type="decimal", required="1",
                 zh="身高", en="Height", min="0.5", max="2.5") == 302  # fmt: skip
    assert _post(client, version_id, id="t", type="time", zh="时间", en="Time") == 302
    assert _post(client, version_id, id="loc", type="geopoint", required="1",
                 zh="位置", en="Location") == 302  # fmt: skip
    # a note and a calculation: the required box (checked by default) does not apply
    assert _post(client, version_id, id="intro", type="note", required="1",
                 zh="说明", en="Intro") == 302  # fmt: skip
    assert _post(client, version_id, id="tall", type="calculate", required="1",
                 zh="高", en="Tall", calculation="${height} > 1.8") == 302  # fmt: skip
    # a bad limit is refused on the form's page, nothing stored
    assert _post(client, version_id, id="w", type="decimal", zh="重", en="W", min="x") == 400

    db.session.expire_all()
    schema = db.session.get(QuestionnaireVersion, version_id).schema
    height = schema.questions["height"]
    assert (height.type, height.minimum, height.maximum) == ("decimal", 0.5, 2.5)
    assert schema.questions["t"].type == "time" and not schema.questions["t"].required
    assert schema.questions["loc"].type == "geopoint" and schema.questions["loc"].required
    assert schema.questions["intro"].type == "note"
    assert schema.questions["tall"].calculation.source == "${height} > 1.8"
    assert "w" not in schema.questions
