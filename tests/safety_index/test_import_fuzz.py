"""Any bytes as an upload: a list of problems or a clear refusal, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.services.safety_index import SafetyIndexError, check_upload

HEADER = "street,month,series,value,unit\n"
cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
rows = st.lists(st.lists(cells, min_size=0, max_size=6), max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows, raw=st.binary(max_size=200), name=st.sampled_from(["x.csv", "x.xlsx"]))
def test_any_upload_is_checked_without_crashing(demo, rows, raw, name) -> None:
    text = HEADER + "\n".join(",".join(r) for r in rows)
    with demo.app_context():
        for data in (text.encode("utf-8"), raw):
            try:
                preview = check_upload(name, data)
            except SafetyIndexError as exc:
                assert exc.message.startswith(name)
            else:
                assert all(p.startswith(name) for p in preview.problems)
