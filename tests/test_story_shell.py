"""The life of a survey through the commands and the sync API only, as a shell script:
an empty migrated database, localities, questionnaire and accounts, a survey, wave 2027-Q1 with
an assignment, opened; interviews sent by a tablet (curl); closed and released; next quarter
questionnaire v2, wave 2027-Q2 on it, and the tablet gets v2 for the new wave's assignment
while the old one stays on v1; the quarter on v2 interviewed, closed, released, and its district
report (pdftotext) marks the changed indicator 不可比较 against Q1."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from surveyapp.questionnaire import load_questionnaire_text

from .conftest import PG_URL
from .services.test_waves import version_two_text

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRE = ROOT / "questionnaires" / "public-security-satisfaction.yaml"
LOCALITIES = ROOT / "surveyapp" / "data" / "demo-localities.csv"

SCRIPT = r"""
set -eu
sa() { "$SURVEYAPP" "$@"; }
api() { curl -sS -H "Authorization: Bearer $TOKEN" "$@"; }
sa localities import "$LOCALITIES"
sa questionnaire import "$QUESTIONNAIRE"
sa users create boss --role manager --password 'boss-long-pass-1' --locality 320106
sa users create li --role enumerator --password 'li-long-pass-12'
sa users create chen --role official --password 'chen-long-pass-1' --locality 320106
sa surveys create --name 'Gulou 2027' --questionnaire public-security-satisfaction \
   --district 320106 --modes door,phone --owner boss --format json > survey.json
SID=$(jq -r .id survey.json)
sa waves create --survey "$SID" --code 2027-Q1 --start 2027-01-01 --end 2027-03-31
sa assignments create --survey "$SID" --wave 2027-Q1 --user li --locality "$COMMUNITY" \
   --mode door --target 3 --format json > a1.json
sa waves open --survey "$SID" --code 2027-Q1
TOKEN=$(sa users token li --label tablet | head -n 1)
# Not through sa(): a backgrounded function is a subshell, and killing it leaves the server.
"$SURVEYAPP" run --port "$PORT" > server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER; wait $SERVER 2>/dev/null || true' EXIT
URL="http://127.0.0.1:$PORT"
for i in $(seq 1 100); do curl -s -o /dev/null "$URL/api/v1/openapi.yaml" && break; sleep 0.2; done
api "http://127.0.0.1:$PORT/api/v1/assignments" > assignments1.json
A1=$(jq -r .id a1.json)
for n in 1 2 3; do
  jq --argjson a "$A1" --arg g "$GRID" --arg u "$(cat /proc/sys/kernel/random/uuid)" \
     '{uuid: $u, assignment: $a, locality: $g, mode: "door", language: "zh_CN", answers: .}' \
     "answers$n.json" > item$n.json
  api -o sent$n.json -w '%{http_code}\n' -H 'Content-Type: application/json' \
     --data @item$n.json "http://127.0.0.1:$PORT/api/v1/submissions" >> codes.txt
done
sa waves close --survey "$SID" --code 2027-Q1
jq --arg u "$(cat /proc/sys/kernel/random/uuid)" '.uuid = $u' item1.json > late-item.json
api -o late.json -w '%{http_code}\n' -H 'Content-Type: application/json' \
   --data @late-item.json "http://127.0.0.1:$PORT/api/v1/submissions" > late.txt
sa waves release --survey "$SID" --code 2027-Q1
sa export --what estimates --survey "$SID" --wave 2027-Q1 --format csv -o estimates.csv
# next quarter: questionnaire v2, a wave on it, the same tablet
sa questionnaire import "$QUESTIONNAIRE_V2"
sa waves create --survey "$SID" --code 2027-Q2 --start 2027-04-01 --end 2027-06-30
sa assignments create --survey "$SID" --wave 2027-Q2 --user li --locality "$COMMUNITY" \
   --mode door --target 3
sa waves open --survey "$SID" --code 2027-Q2
api "http://127.0.0.1:$PORT/api/v1/assignments" > assignments2.json
sa surveys list --format json > list.json
# the quarter's interviews on v2, closed, released, and the reports of both quarters
A2=$(jq -r '.assignments[] | select(.wave.code == "2027-Q2") | .id' assignments2.json)
for n in 1 2 3; do
  jq --argjson a "$A2" --arg g "$GRID" --arg u "$(cat /proc/sys/kernel/random/uuid)" \
     '{uuid: $u, assignment: $a, locality: $g, mode: "door", language: "zh_CN", answers: .}' \
     "answers$n.json" > q2-item$n.json
  api -o q2-sent$n.json -w '%{http_code}\n' -H 'Content-Type: application/json' \
     --data @q2-item$n.json "http://127.0.0.1:$PORT/api/v1/submissions" >> q2-codes.txt
done
sa waves close --survey "$SID" --code 2027-Q2
sa waves release --survey "$SID" --code 2027-Q2
sa report --survey "$SID" --wave 2027-Q1 --district 320106 -o q1-district.pdf
sa report --survey "$SID" --wave 2027-Q2 --district 320106 -o q2-district.pdf
sa report --survey "$SID" --wave 2027-Q2 --street "$STREET" -o q2-street.pdf
pdftotext -layout q1-district.pdf q1-district.txt
pdftotext -layout q2-district.pdf q2-district.txt
pdftotext -layout q2-street.pdf q2-street.txt
sa surveys list --format json > list2.json
"""


def _answers(seed: int) -> dict:
    """A complete eligible respondent, drawn as the demo draws them (no database)."""
    from surveyapp.services.demo import _Generator

    schema = load_questionnaire_text(QUESTIONNAIRE.read_text(encoding="utf-8"), source="q")
    place = SimpleNamespace(populations=[], parent=None)
    rng = random.Random(seed)
    while True:
        raw = _Generator(schema, rng).respondent(0.0, place, {})
        if raw.get("resident_6m") == "yes" and raw.get("age_16plus") == "yes":
            return {k: (str(v) if isinstance(v, int) else v) for k, v in raw.items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_survey_runs_through_the_commands_and_the_api(migrated_database, tmp_path):
    if PG_URL:
        pytest.skip("the shell-level test runs the binary on a SQLite file of its own")
    if not shutil.which("jq") or not shutil.which("pdftotext"):
        pytest.skip("jq or pdftotext is not installed")
    binary = shutil.which("surveyapp", path=str(Path(sys.executable).parent))
    database = tmp_path / "story.sqlite"
    shutil.copy(migrated_database, database)
    for n in (1, 2, 3):
        (tmp_path / f"answers{n}.json").write_text(json.dumps(_answers(n), ensure_ascii=False))
    v2 = tmp_path / "v2.yaml"
    v2.write_text(version_two_text(), encoding="utf-8")
    env = {
        **os.environ,
        "SURVEYAPP": binary,
        "LOCALITIES": str(LOCALITIES),
        "QUESTIONNAIRE": str(QUESTIONNAIRE),
        "QUESTIONNAIRE_V2": str(v2),
        "COMMUNITY": "320106001001",
        "GRID": "32010600100101",
        "STREET": "320106001",
        "PORT": str(_free_port()),
        "SURVEYAPP_DATABASE_URL": f"sqlite:///{database}",
        "SURVEYAPP_SECRET_KEY": "story-test",
        "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    done = subprocess.run(
        ["bash", "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    log = done.stdout + done.stderr + (tmp_path / "server.log").read_text(errors="replace")
    assert done.returncode == 0, log[-4000:]
    # The script's server is gone with it (a server left running holds its port and database).
    with socket.socket() as probe:
        port = int(env["PORT"])
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the server outlived the test"
    read = lambda name: (tmp_path / name).read_text()  # noqa: E731
    assert read("codes.txt").split() == ["201", "201", "201"], read("sent1.json")
    assert read("late.txt").strip() == "409", read("late.json")  # the wave is closed
    assert "closed" in read("late.json")
    first = json.loads(read("assignments1.json"))["assignments"]
    second = json.loads(read("assignments2.json"))["assignments"]
    versions = {a["wave"]["code"]: a["questionnaire"]["version_id"] for a in second}
    assert versions["2027-Q1"] == first[0]["questionnaire"]["version_id"]
    assert versions["2027-Q2"] != versions["2027-Q1"]
    listed = json.loads(read("list.json"))[0]
    waves = {w["code"]: w for w in listed["waves"]}
    assert (waves["2027-Q1"]["state"], waves["2027-Q1"]["released"]) == ("closed", True)
    assert waves["2027-Q1"]["counted_responses"] == 3
    assert waves["2027-Q1"]["questionnaire"].endswith("@1")
    assert waves["2027-Q2"]["questionnaire"].endswith("@2")
    assert (waves["2027-Q2"]["state"], waves["2027-Q2"]["released"]) == ("open", False)
    assert "security" in read("estimates.csv")
    # next quarter's interviews, then both quarters released and reported
    assert read("q2-codes.txt").split() == ["201", "201", "201"], read("q2-sent1.json")
    after = {w["code"]: w for w in json.loads(read("list2.json"))[0]["waves"]}
    assert (after["2027-Q2"]["state"], after["2027-Q2"]["released"]) == ("closed", True)
    assert after["2027-Q2"]["counted_responses"] == 3
    q1, q2 = read("q1-district.txt"), read("q2-district.txt")
    assert "2027-Q1" in q1 and "未发布" not in q1
    assert "2027-Q2" in q2 and "未发布" not in q2
    # v2 changed the 'security' indicator's positive answers: not comparable with Q1
    assert "不可比较" in q2, q2[:3000]
    assert "不可比较" not in q1  # the first wave has nothing to compare with
    assert "2027-Q2" in read("q2-street.txt")
