"""The demo: a district of 13 streets, one user per role, a survey with two waves, and
synthetic responses whose rates differ between streets, communities and waves.

Running it again adds nothing that is already there (responses have UUIDs derived from the
seed and their number).
"""

from __future__ import annotations

import math
import os
import random
import uuid as uuidlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, select

from ..errors import N_, Text, Worded
from ..extensions import db
from ..models import (
    Answer,
    Assignment,
    Locality,
    QuestionnaireVersion,
    Response,
    Survey,
    User,
)
from ..questionnaire import Question, Questionnaire, clean_answers
from .boundaries import import_boundaries
from .localities import import_localities
from .questionnaires import store_questionnaire
from .responses import answer_rows
from .surveys import create_survey
from .waves import close_wave, create_wave, open_wave, release_wave

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
QUESTIONNAIRE_FILE = "public-security-satisfaction.yaml"
SURVEY_NAME = "鼓楼区群众安全感满意度调查"
DISTRICT_CODE = "320106"
DEMO_USERS = (
    # username, role, password, display name, jurisdiction
    ("admin", "admin", "admin-demo-2026", "管理员", None),
    ("manager", "manager", "manager-demo-2026", "王芳", DISTRICT_CODE),
    ("enumerator", "enumerator", "enumerator-demo-2026", "李强", None),
    ("official", "official", "official-demo-2026", "陈明", DISTRICT_CODE),
    ("official-street", "official", "official-demo-2026", "赵丽", "320106001"),
    ("clerk", "clerk", "clerk-demo-2026", "孙磊", DISTRICT_CODE),
)
WAVES = (
    ("2026-Q3", "2026年第三季度", date(2026, 7, 1), date(2026, 9, 30), False),
    ("2026-Q4", "2026年第四季度", date(2026, 10, 1), date(2026, 12, 31), True),
)
FIELD_TEAM = 6
# Display names are people's names: the interface adds their role where it is needed (the
# telephone script reads "……的调查员{name}").
FIELD_TEAM_NAMES = ("张伟", "王静", "刘洋", "陈杰", "杨敏", "赵磊")


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _user(username, role, password, name, locality_code) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is not None:
        return user, False
    locality = None
    if locality_code:
        locality = db.session.scalar(select(Locality).where(Locality.code == locality_code))
    user = User(username=username, role=role, display_name=name, locality=locality)
    user.set_password(password)
    db.session.add(user)
    return user, True


def _decimal(q: Question, rng: random.Random) -> float:
    lo = q.minimum if q.minimum is not None else 0.0
    hi = q.maximum if q.maximum is not None else lo + 100.0
    return round(rng.uniform(lo, hi), 2)


def _integer(q: Question, rng: random.Random) -> int:
    lo = int(q.minimum) if q.minimum is not None else 0
    hi = int(q.maximum) if q.maximum is not None else lo + 80
    return rng.randint(lo, hi)


def _date(q: Question, rng: random.Random) -> str:
    return (date(2026, 1, 1) + timedelta(days=rng.randint(0, 300))).isoformat()


def _text(q: Question, rng: random.Random) -> str | None:
    if not q.required and rng.random() < 0.8:
        return None
    return rng.choice(
        [
            "希望加强夜间巡逻",
            "小区路灯需要维修",
            "建议多开展反诈宣传",
            "电动车停放管理要加强",
            "总体满意",
        ]
    )


def _geopoint(q: Question, rng: random.Random) -> str:
    # around the demo district (Shanghai), as ODK writes it: lat lon alt accuracy
    return f"{31.2 + rng.uniform(-0.05, 0.05):.6f} {121.45 + rng.uniform(-0.05, 0.05):.6f} 0 8"


#: Answers drawn for the types the interviewer enters without choices (by the registry's
#: input kind).
_DRAWS: dict[str, Callable[[Question, random.Random], Any]] = {
    "integer": _integer,
    "date": _date,
    "text": _text,
    "decimal": _decimal,
    "time": lambda q, rng: f"{rng.randint(8, 20):02d}:{rng.choice([0, 15, 30, 45]):02d}",
    "datetime": lambda q, rng: f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:30",
    "geopoint": _geopoint,
}


class _Generator:
    """Draws plausible answers for one respondent, walking the questionnaire in order."""

    def __init__(self, schema: Questionnaire, rng: random.Random):
        self.schema = schema
        self.rng = rng
        self.indicator_questions = {}
        for ind in schema.indicators:
            self.indicator_questions.setdefault(ind.question, ind)

    def respondent(self, effect: float, locality: Locality, base_rates: dict) -> dict:
        rng = self.rng
        answers: dict = {}
        sex, age = self._demography(locality)
        for group in self.schema.groups:
            for q in group.questions:
                if not self.schema.is_relevant(q.id, answers):
                    continue
                value = self._answer(q, answers, effect, base_rates, sex, age)
                # Consistency checks (e.g. years here <= age) are redrawn, not violated.
                for _attempt in range(50):
                    if (
                        value is None
                        or q.constraint is None
                        or q.constraint.evaluate(answers, current=value)
                    ):
                        break
                    value = self._answer(q, answers, effect, base_rates, sex, age)
                if value is None:
                    continue
                answers[q.id] = value
                if q.other_code and (
                    value == q.other_code or (isinstance(value, list) and q.other_code in value)
                ):
                    answers[f"{q.id}.other"] = rng.choice(
                        ["高空抛物", "电动车被盗", "夜间照明不足"]
                    )
        return answers

    def _demography(self, locality: Locality) -> tuple[str, str]:
        node = locality
        while node is not None and not node.populations:
            node = node.parent
        if node is None:
            return self.rng.choice("mf"), self.rng.choice(
                ["16_24", "25_34", "35_44", "45_54", "55_64", "65p"]
            )
        cells = [(p.sex, p.age_group, p.count) for p in node.populations]
        total = sum(c for _, _, c in cells)
        pick = self.rng.uniform(0, total)
        for sex, age, count in cells:
            pick -= count
            if pick <= 0:
                return sex, age
        return cells[-1][0], cells[-1][1]

    def _answer(
        self, q: Question, answers: dict, effect: float, base_rates: dict, sex: str, age: str
    ):
        rng = self.rng
        if q.id == "sex":
            return sex
        if q.id == "age_group":
            return age
        kind = q.kind
        if not (kind.stored and kind.entered):
            return None  # a note or a calculation: nothing to answer
        draw = _DRAWS.get(kind.input)
        if draw is not None:
            return draw(q, rng)
        codes = [c.code for c in q.choices] or list(kind.builtin_codes)
        indicator = self.indicator_questions.get(q.id)
        if indicator is not None and codes:
            p = _logistic(_logit(base_rates.get(indicator.id, 0.85)) + effect)
            if indicator.excluded and rng.random() < 0.03:
                return rng.choice(list(indicator.excluded))
            positive = [c for c in codes if c in indicator.positive]
            negative = [
                c for c in codes if c not in indicator.positive and c not in indicator.excluded
            ]
            pool = positive if (rng.random() < p or not negative) else negative
            # Earlier codes of a scale are the stronger ones: weight them a little more.
            weights = [len(pool) - i for i in range(len(pool))]
            chosen = rng.choices(pool, weights=weights)[0]
            return [chosen] if kind.multiple else chosen
        if kind.builtin_labels:  # yes/no
            yes, no = kind.builtin_codes[0], kind.builtin_codes[-1]
            if q.group_id == self.schema.groups[0].id:  # screening: nearly all eligible
                return yes if rng.random() < 0.97 else no
            return yes if rng.random() < 0.25 else no
        if kind.choices and not kind.multiple:
            if q.id.startswith(("resident", "eligible", "consent")):
                return codes[0] if rng.random() < 0.97 else codes[-1]
            return rng.choice(codes)
        if kind.multiple:
            exclusive = [c.code for c in q.choices if c.exclusive]
            if exclusive and rng.random() < 0.35:
                return [exclusive[0]]
            pool = [c.code for c in q.choices if not c.exclusive and c.code != q.other_code]
            k = min(len(pool), rng.choice([1, 1, 2, 2, 3]))
            picked = set(rng.sample(pool, k))
            if q.other_code and rng.random() < 0.03:
                picked.add(q.other_code)
            return [c.code for c in q.choices if c.code in picked]
        return None


def load_demo(
    responses: int = 3000,
    seed: int = 20260901,
    if_empty: bool = False,
    progress: Callable[[Text], None] = lambda _msg: None,
) -> str:
    """Create (or complete) the demo data set and return what to print for the user."""
    if if_empty and db.session.scalar(select(func.count(User.id))):
        return Worded(Text(N_("The database already has data: the demo was not loaded.")))

    progress(Text(N_("Localities…")))
    import_localities(
        (DATA_DIR / "demo-localities.csv").read_text(encoding="utf-8"), source="demo-localities.csv"
    )
    import_boundaries(
        (DATA_DIR / "demo-boundaries.geojson").read_bytes(), source="demo-boundaries.geojson"
    )
    district = db.session.scalar(select(Locality).where(Locality.code == DISTRICT_CODE))

    progress(Text(N_("Questionnaire…")))
    qdir = Path(current_app.config["QUESTIONNAIRE_DIR"])
    version, _ = store_questionnaire(
        (qdir / QUESTIONNAIRE_FILE).read_text(encoding="utf-8"), source=QUESTIONNAIRE_FILE
    )

    progress(Text(N_("Users…")))
    created_users = []
    for spec in DEMO_USERS:
        user, created = _user(*spec)
        if created:
            created_users.append(spec)
    team = []
    rng = random.Random(seed)
    for i in range(1, FIELD_TEAM + 1):
        user, _ = _user(
            f"field{i:02d}",
            "enumerator",
            uuidlib.UUID(int=rng.getrandbits(128)).hex,
            FIELD_TEAM_NAMES[i - 1],
            None,
        )
        team.append(user)
    db.session.flush()

    survey = db.session.scalar(select(Survey).where(Survey.name == SURVEY_NAME))
    if survey is None:
        # Through the same services as the pages and the commands (audit log included).
        manager = db.session.scalar(select(User).where(User.username == "manager"))
        survey = create_survey(
            name=SURVEY_NAME,
            questionnaire=version,
            district=district,
            modes="phone,door",
            owner=manager,
            settings={
                "design": {"strata": "street", "cluster": "community"},
                "weighting": {"method": "rake", "margins": ["street", "sex", "age_group"]},
                "ci_method": "logit",
                "level": 0.95,
            },
        )
        for code, name, start, end, is_open in WAVES:
            wave = create_wave(
                survey, code=code, name=name, starts_on=start, ends_on=end, questionnaire=version
            )
            open_wave(wave)
            if not is_open:
                close_wave(wave)
            # The demo shows officials every wave: the current one as interviews come in
            # (released before its responses exist: nothing to prepare yet).
            release_wave(wave, prepare=False)
        db.session.refresh(survey)

    enumerator = db.session.scalar(select(User).where(User.username == "enumerator"))
    streets = [loc for loc in district.children if loc.level == "street"]
    current_wave = survey.waves[-1]
    if not db.session.scalar(
        select(func.count(Assignment.id)).where(Assignment.enumerator_id == enumerator.id)
    ):
        first_street = streets[0]
        for community in first_street.children[:2]:
            db.session.add(
                Assignment(
                    wave=current_wave,
                    enumerator=enumerator,
                    locality=community,
                    mode="door",
                    target=40,
                )
            )
        db.session.add(
            Assignment(
                wave=current_wave,
                enumerator=enumerator,
                locality=district,
                mode="phone",
                target=100,
                locality_editable=True,
            )
        )
    db.session.commit()

    added = _synthetic_responses(survey, version, streets, team, responses, seed, progress)
    port = os.environ.get("PORT") or "5000"  # `make run` serves on $PORT
    lines: list[str | Text] = [
        Text(N_("Demo data ready: %(url)s"), url=f"http://127.0.0.1:{port}"),
        "",
        Text(N_("Log in as (user name / password):")),
    ]
    for username, role, password, name, _loc in DEMO_USERS:
        lines.append(f"  {role:<11} {username:<16} {password:<22} {name}")
    lines.append("")
    lines.append(
        Text(
            N_(
                "Survey '%(name)s' (id %(id)s), waves %(waves)s; %(count)s synthetic "
                "responses added."
            ),
            name=SURVEY_NAME,
            id=survey.id,
            waves=", ".join(w.code for w in survey.waves),
            count=added,
        )
    )
    from .safety_index_demo import load_demo_index  # the monthly safety index (平安指数)

    lines.append(load_demo_index(district))
    # One text of lines (its template is no msgid: each line is translated on its own).
    return Worded(
        Text(
            "\n".join(f"%(l{i})s" for i in range(len(lines))),
            **{f"l{i}": line for i, line in enumerate(lines)},
        )
    )


def _synthetic_responses(
    survey: Survey,
    version: QuestionnaireVersion,
    streets: list[Locality],
    team: list[User],
    count: int,
    seed: int,
    progress: Callable[[Text], None],
) -> int:
    if count <= 0:
        return 0
    schema = version.schema
    rng = random.Random(seed)
    generator = _Generator(schema, rng)
    base_rates = {ind.id: 0.86 for ind in schema.indicators}
    base_rates.update(
        {
            "security": 0.93,
            "law_enforcement_satisfaction": 0.90,
            "grid_awareness": 0.62,
            "night_patrol": 0.55,
            "safety_participation": 0.30,
            "antigang_awareness": 0.80,
        }
    )
    street_effect = {s.id: rng.gauss(0, 0.45) for s in streets}
    communities = [c for s in streets for c in s.children]
    community_effect = {c.id: rng.gauss(0, 0.25) for c in communities}
    wave_effect = [0.0, 0.25]
    weights = [c.population or 1 for c in communities]

    existing = set(db.session.scalars(select(Response.uuid).where(Response.survey_id == survey.id)))
    added = 0
    response_rows: list[dict] = []
    answer_batches: list[tuple[str, list[Answer]]] = []
    for i in range(count):
        wave_index = i % len(survey.waves)
        wave = survey.waves[wave_index]
        key = str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"surveyapp-demo/{seed}/{i}"))
        community = rng.choices(communities, weights=weights)[0]
        grid = rng.choice(community.children) if community.children else community
        effect = (
            street_effect[community.parent_id]
            + community_effect[community.id]
            + wave_effect[wave_index]
        )
        raw = generator.respondent(effect, grid, base_rates)
        mode = "phone" if rng.random() < 0.6 else "door"
        start = datetime.combine(wave.starts_on, datetime.min.time()) + timedelta(
            days=rng.randint(0, 60), hours=rng.randint(9, 19), minutes=rng.randint(0, 59)
        )
        if key in existing:
            continue
        cleaned, errors = clean_answers(schema, raw)
        if errors:
            raise RuntimeError(f"demo generator produced invalid answers: {errors[:3]}")
        response_rows.append(
            {
                "uuid": key,
                "survey_id": survey.id,
                "wave_id": wave.id,
                "questionnaire_version_id": wave.questionnaire_version_id,
                "mode": mode,
                "enumerator_id": rng.choice(team).id,
                "language": "zh_CN",
                "started_at": start,
                "ended_at": start + timedelta(seconds=rng.randint(300, 720)),
                "submitted_at": start + timedelta(minutes=15),
                "locality_id": grid.id,
                "district_id": survey.district_id,
                "street_id": community.parent_id,
                "community_id": community.id,
                "grid_id": grid.id if grid.level == "grid" else None,
                "status": "submitted",
                "content_hash": "",
            }
        )
        answer_batches.append((key, list(answer_rows(cleaned))))
        added += 1
        if len(response_rows) >= 500:
            _flush(response_rows, answer_batches)
            progress(Text(N_("  %(count)s responses…"), count=added))
    _flush(response_rows, answer_batches)
    return added


def _flush(response_rows: list[dict], answer_batches: list[tuple[str, list[Answer]]]) -> None:
    if not response_rows:
        return
    db.session.execute(insert(Response), response_rows)
    ids = dict(
        db.session.execute(
            select(Response.uuid, Response.id).where(
                Response.uuid.in_([r["uuid"] for r in response_rows])
            )
        ).all()
    )
    rows = []
    for key, answers in answer_batches:
        for a in answers:
            rows.append(
                {
                    "response_id": ids[key],
                    "question": a.question,
                    "value": a.value,
                    "number": a.number,
                    "multiple": bool(a.multiple),
                }
            )
    db.session.execute(insert(Answer), rows)
    db.session.commit()
    response_rows.clear()
    answer_batches.clear()
