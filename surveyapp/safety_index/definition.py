"""The safety index's definition file (平安指数): groups, indicators, sources, normalisations.

A definition is YAML kept beside the questionnaires (``questionnaires/safety-index.yaml``) and
read into frozen objects, or into a list of problems that each name the file, the line and the
field. Like the questionnaire loader, the file is composed into PyYAML nodes so that every
problem has its line, and every problem is reported at once. The format is described in
``docs/safety-index.md``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import N_, Text, UserError, Worded
from ..yaml_limits import compose

__all__ = [
    "DIRECTIONS",
    "MISSING_RULES",
    "NORMALISATIONS",
    "Definition",
    "DefinitionError",
    "DefinitionProblem",
    "Group",
    "Indicator",
    "Normalisation",
    "Source",
    "definition_changes",
    "load_definition",
    "load_definition_text",
    "validate_definition_text",
]

DIRECTIONS = ("positive", "negative")
#: How a normalised value is obtained from the month's value (see :class:`Normalisation`).
NORMALISATIONS = ("target", "per_10k", "district", "yoy")
#: What happens to a street's indicator that has no value for the month.
MISSING_RULES = ("previous", "reweight", "worst")
#: Default caps ``(low, high)`` by normalisation and direction, in normalised units.
DEFAULT_CAPS = {
    ("target", "positive"): (0.0, 1.0),
    ("target", "negative"): (1.0, 2.0),
    ("district", "positive"): (0.5, 1.5),
    ("district", "negative"): (0.5, 1.5),
    ("yoy", "positive"): (-0.5, 0.5),
    ("yoy", "negative"): (-0.5, 0.5),
}
DEFAULT_GROUP_WEIGHTS = {"positive": 35.0, "negative": 35.0, "public": 30.0}

_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,63}\Z")
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_MONTH_RE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])\Z")


@dataclass(frozen=True, order=True)
class DefinitionProblem:
    """One thing wrong with a definition file: file, 1-based line (0: none), field, message."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    def as_text(self) -> Text:
        """The problem with its place, translated where it is shown (the command line)."""
        where: str | Text = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.field:
            where = Text(N_("%(where)s: %(place)s"), where=where, place=self.field)
        message = self.message.text if isinstance(self.message, Worded) else self.message
        return Text(N_("%(where)s: %(message)s"), where=where, message=message)


class DefinitionError(UserError):
    """A definition could not be loaded; ``problems`` says why."""

    def __init__(self, problems: Iterable[DefinitionProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(map(str, self.problems)) or "invalid definition")


@dataclass(frozen=True)
class Source:
    """Where an indicator's monthly value comes from.

    ``kind`` is ``"series"`` (an administrative series uploaded per street and month, named by
    ``series``) or ``"survey"`` (an indicator or composite score ``item`` of the survey whose
    questionnaire is ``questionnaire``, from the latest released wave).
    """

    kind: str
    series: str = ""
    questionnaire: str = ""
    item: str = ""

    @property
    def key(self) -> str:
        return self.series if self.kind == "series" else f"{self.questionnaire}:{self.item}"

    def describe(self) -> str:
        return f"series {self.series}" if self.kind == "series" else f"survey {self.key}"


@dataclass(frozen=True)
class Normalisation:
    """How a month's value becomes a normalised value ``x``, then a score in [0, 1].

    - ``target``: ``x = value / target``;
    - ``per_10k``: ``x = value / population * 10000`` (the street's residents);
    - ``district``: ``x = value / mean of the district's streets`` that month;
    - ``yoy``: ``x = (value - same month last year) / max(same month last year, 1)``.

    The score rises linearly from 0 at ``caps[0]`` to 1 at ``caps[1]`` for a positive indicator
    and falls from 1 at ``caps[0]`` to 0 at ``caps[1]`` for a negative one, and is clipped to
    [0, 1]: nothing beyond the caps counts.
    """

    kind: str
    caps: tuple[float, float]
    target: float | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    name_zh: str
    name_en: str
    direction: str
    unit: str
    source: Source
    normalisation: Normalisation
    weight: float
    line: int = 0

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class Group:
    id: str
    name_zh: str
    name_en: str
    weight: float
    indicators: tuple[Indicator, ...]

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name_zh


@dataclass(frozen=True)
class Definition:
    """A validated definition. Group weights sum to 100 (points of the index)."""

    id: str
    version: int
    effective_from: str  # "YYYY-MM": the first month computed with this version
    title_zh: str
    title_en: str
    missing: str
    draws: int
    seed: int
    level: float
    watch_bottom: int
    watch_drop: float
    groups: tuple[Group, ...]
    sha256: str = ""
    source_text: str = field(default="", repr=False, compare=False)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for g in self.groups for i in g.indicators)

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)

    def group_of(self, indicator_id: str) -> Group:
        return next(g for g in self.groups if any(i.id == indicator_id for i in g.indicators))

    @property
    def series_units(self) -> dict[str, str]:
        """The administrative series this version uses, with their units."""
        return {i.source.series: i.unit for i in self.indicators if i.source.kind == "series"}

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_zh

    def max_points(self, indicator_id: str) -> float:
        """The points an indicator gives at a score of 1 (no missing value reweighted)."""
        group = self.group_of(indicator_id)
        total = sum(i.weight for i in group.indicators)
        return group.weight * self.indicator(indicator_id).weight / total


# ------------------------------------------------------------------------------ loading


def load_definition(path: str | PathLike[str]) -> Definition:
    """Load and validate a definition file; raise :class:`DefinitionError` on problems."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise DefinitionError(
            [
                DefinitionProblem(
                    source, 0, "", Worded(Text(N_("cannot read: %(error)s"), error=exc))
                )
            ]
        ) from exc
    except UnicodeDecodeError as exc:
        raise DefinitionError(
            [
                DefinitionProblem(
                    source, 0, "", Worded(Text(N_("the file is not UTF-8 text; save it as UTF-8")))
                )
            ]
        ) from exc
    return load_definition_text(text, source)


def load_definition_text(text: str, source: str = "<text>") -> Definition:
    """Load and validate definition YAML ``text``; ``source`` names it in problems."""
    definition, problems = _Loader(text, source).load()
    if problems or definition is None:
        raise DefinitionError(problems)
    return definition


def validate_definition_text(text: str, source: str = "<text>") -> list[DefinitionProblem]:
    """Return every problem of definition YAML ``text`` (empty if valid)."""
    return _Loader(text, source).load()[1]


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Loader:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.file = source
        self.problems: list[DefinitionProblem] = []

    def report(self, node: Node | int, path: str, message: str | Text) -> None:
        line = node if isinstance(node, int) else _line(node)
        worded = Worded(message) if isinstance(message, Text) else message
        self.problems.append(DefinitionProblem(self.file, line, path, worded))

    def load(self) -> tuple[Definition | None, list[DefinitionProblem]]:
        try:
            root = compose(self.text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.report(
                mark.line + 1 if mark else 1,
                "",
                Text(N_("YAML syntax error: %(problem)s"), problem=exc.problem),
            )
            return None, self.problems
        except (yaml.YAMLError, RecursionError) as exc:
            self.report(1, "", Text(N_("YAML syntax error: %(problem)s"), problem=exc))
            return None, self.problems
        if root is None:
            self.report(1, "", Text(N_("the file is empty")))
            return None, self.problems
        definition = self.definition(root)
        self.problems = sorted(dict.fromkeys(self.problems), key=lambda p: p.line)
        return (None if self.problems else definition), self.problems

    # --- scalar helpers --------------------------------------------------------------------

    def mapping(
        self, node: Node, path: str, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.report(node, path, Text(N_("must be a mapping (key: value lines)")))
            return None
        out: dict[str, Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            where = f"{path}.{name}" if path else str(name)
            if name not in required + optional:
                allowed = ", ".join(required + optional)
                self.report(
                    key, where, Text(N_("unknown key (allowed: %(allowed)s)"), allowed=allowed)
                )
            elif name in out:
                self.report(key, where, Text(N_("appears twice")))
            else:
                out[name] = value
        for name in required:
            if name not in out:
                self.report(node, path, Text(N_("'%(name)s' is missing"), name=name))
        return out

    def text_value(self, node: Node, path: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.report(node, path, Text(N_("must be a text")))
            return None
        value = node.value.strip()
        if not value:
            self.report(node, path, Text(N_("must not be empty")))
            return None
        return value

    def number(
        self, node: Node, path: str, *, minimum: float | None = None, positive: bool = False
    ) -> float | None:
        if isinstance(node, ScalarNode) and node.tag != "tag:yaml.org,2002:bool":
            try:
                value = float(node.value.replace("_", ""))
            except ValueError:
                value = math.nan
            if math.isfinite(value):
                if positive and value <= 0:
                    self.report(
                        node,
                        path,
                        Text(N_("must be greater than 0, not %(value)s"), value=node.value),
                    )
                    return None
                if minimum is not None and value < minimum:
                    self.report(
                        node,
                        path,
                        Text(
                            N_("must be at least %(minimum)s, not %(value)s"),
                            minimum=f"{minimum:g}",
                            value=node.value,
                        ),
                    )
                    return None
                return value
        self.report(node, path, Text(N_("must be a number")))
        return None

    def choice(self, node: Node, path: str, options: tuple[str, ...]) -> str | None:
        value = self.text_value(node, path)
        if value is not None and value not in options:
            self.report(
                node,
                path,
                Text(
                    N_("'%(value)s' is not one of: %(options)s"),
                    value=value,
                    options=", ".join(options),
                ),
            )
            return None
        return value

    def identifier(self, node: Node, path: str) -> str | None:
        value = self.text_value(node, path)
        if value is not None and not _ID_RE.match(value):
            self.report(
                node,
                path,
                Text(
                    N_("'%(value)s' must be lower-case letters, digits and _ (a letter first)"),
                    value=value,
                ),
            )
            return None
        return value

    def names(self, node: Node, path: str) -> tuple[str, str] | None:
        keys = self.mapping(node, path, ("zh_CN",), ("en",))
        if keys is None:
            return None
        zh = self.text_value(keys["zh_CN"], f"{path}.zh_CN") if "zh_CN" in keys else None
        en = self.text_value(keys["en"], f"{path}.en") if "en" in keys else ""
        return (zh, en or "") if zh else None

    # --- the structure ---------------------------------------------------------------------

    def definition(self, root: Node) -> Definition | None:
        keys = self.mapping(
            root,
            "",
            ("id", "version", "effective_from", "title", "groups"),
            ("missing", "simulation", "watch", "description"),
        )
        if keys is None:
            return None
        ident = version = month = title = None
        if "id" in keys:
            ident = self.text_value(keys["id"], "id")
            if ident is not None and not _SLUG_RE.match(ident):
                self.report(keys["id"], "id", Text(N_("must be lower-case letters, digits and -")))
                ident = None
        if "version" in keys:
            v = self.number(keys["version"], "version", minimum=1)
            if v is not None and not v.is_integer():
                self.report(keys["version"], "version", Text(N_("must be a whole number")))
            version = int(v) if v is not None and v.is_integer() else None
        if "effective_from" in keys:
            month = self.text_value(keys["effective_from"], "effective_from")
            if month is not None and not _MONTH_RE.match(month):
                self.report(
                    keys["effective_from"], "effective_from", Text(N_("must be a month YYYY-MM"))
                )
                month = None
        if "title" in keys:
            title = self.names(keys["title"], "title")
        missing = "previous"
        if "missing" in keys:
            missing = self.choice(keys["missing"], "missing", MISSING_RULES) or missing
        draws, seed, level = 1000, 20261101, 0.95
        if "simulation" in keys:
            sim = self.mapping(keys["simulation"], "simulation", (), ("draws", "seed", "level"))
            if sim:
                if "draws" in sim:
                    d = self.number(sim["draws"], "simulation.draws", minimum=100)
                    draws = int(d) if d is not None and d <= 100_000 else draws
                    if d is not None and d > 100_000:
                        self.report(sim["draws"], "simulation.draws", Text(N_("at most 100000")))
                if "seed" in sim:
                    s = self.number(sim["seed"], "simulation.seed", minimum=0)
                    seed = int(s) if s is not None else seed
                if "level" in sim:
                    lv = self.number(sim["level"], "simulation.level", positive=True)
                    if lv is not None and not 0.5 <= lv < 1:
                        self.report(
                            sim["level"], "simulation.level", Text(N_("must be in [0.5, 1)"))
                        )
                    elif lv is not None:
                        level = lv
        bottom, drop = 3, 3.0
        if "watch" in keys:
            watch = self.mapping(keys["watch"], "watch", (), ("bottom", "drop"))
            if watch:
                if "bottom" in watch:
                    b = self.number(watch["bottom"], "watch.bottom", minimum=0)
                    bottom = int(b) if b is not None else bottom
                if "drop" in watch:
                    d = self.number(watch["drop"], "watch.drop", minimum=0)
                    drop = d if d is not None else drop
        groups = self.groups(keys["groups"]) if "groups" in keys else None
        if None in (ident, version, month, title, groups):
            return None
        return Definition(
            id=ident,
            version=version,
            effective_from=month,
            title_zh=title[0],
            title_en=title[1],
            missing=missing,
            draws=draws,
            seed=seed,
            level=level,
            watch_bottom=bottom,
            watch_drop=drop,
            groups=groups,
            sha256=hashlib.sha256(self.text.encode("utf-8")).hexdigest(),
            source_text=self.text,
        )

    def groups(self, node: Node) -> tuple[Group, ...] | None:
        if not isinstance(node, SequenceNode) or not node.value:
            self.report(node, "groups", Text(N_("must be a non-empty list of groups")))
            return None
        groups: list[Group] = []
        seen_groups: set[str] = set()
        seen_indicators: dict[str, int] = {}
        seen_series: dict[str, tuple[str, int]] = {}
        ok = True
        for gi, gnode in enumerate(node.value):
            path = f"groups[{gi}]"
            keys = self.mapping(gnode, path, ("id", "name", "indicators"), ("weight",))
            if keys is None:
                ok = False
                continue
            gid = self.identifier(keys["id"], f"{path}.id") if "id" in keys else None
            if gid in seen_groups:
                self.report(
                    keys["id"], f"{path}.id", Text(N_("group '%(gid)s' is defined twice"), gid=gid)
                )
                gid = None
            if gid:
                seen_groups.add(gid)
            names = self.names(keys["name"], f"{path}.name") if "name" in keys else None
            if "weight" in keys:
                weight = self.number(keys["weight"], f"{path}.weight", minimum=0)
            elif gid in DEFAULT_GROUP_WEIGHTS:
                weight = DEFAULT_GROUP_WEIGHTS[gid]
            else:
                self.report(
                    gnode,
                    path,
                    Text(
                        N_(
                            "'weight' is missing (only positive, negative and public "
                            "have a default: 35, 35, 30)"
                        )
                    ),
                )
                weight = None
            indicators = []
            inodes = keys.get("indicators")
            if inodes is not None and (not isinstance(inodes, SequenceNode) or not inodes.value):
                self.report(inodes, f"{path}.indicators", Text(N_("must be a non-empty list")))
                inodes = None
            for ii, inode in enumerate(inodes.value if inodes is not None else ()):
                ind = self.indicator(inode, f"{path}.indicators[{ii}]")
                if ind is None:
                    ok = False
                    continue
                if ind.id in seen_indicators:
                    self.report(
                        inode,
                        f"{path}.indicators[{ii}].id",
                        Text(
                            N_("indicator '%(id)s' is already defined on line %(line)s"),
                            id=ind.id,
                            line=seen_indicators[ind.id],
                        ),
                    )
                    ok = False
                    continue
                seen_indicators[ind.id] = ind.line
                if ind.source.kind == "series":
                    other = seen_series.get(ind.source.series)
                    if other is not None and other[0] != ind.unit:
                        self.report(
                            inode,
                            f"{path}.indicators[{ii}].unit",
                            Text(
                                N_(
                                    "series '%(series)s' has unit '%(unit)s' on line "
                                    "%(line)s; one series has one unit"
                                ),
                                series=ind.source.series,
                                unit=other[0],
                                line=other[1],
                            ),
                        )
                        ok = False
                    seen_series.setdefault(ind.source.series, (ind.unit, ind.line))
                indicators.append(ind)
            if indicators and sum(i.weight for i in indicators) <= 0:
                self.report(
                    gnode, f"{path}.indicators", Text(N_("the indicators' weights sum to 0"))
                )
                ok = False
            if gid is None or names is None or weight is None or not indicators:
                ok = False
                continue
            groups.append(Group(gid, names[0], names[1], weight, tuple(indicators)))
        if ok and groups:
            total = sum(g.weight for g in groups)
            if abs(total - 100) > 1e-9:
                weights = " + ".join(f"{g.weight:g}" for g in groups)
                self.report(
                    node,
                    "groups",
                    Text(
                        N_(
                            "the groups' weights must sum to 100 (the index's "
                            "points), not %(weights)s = %(total)s"
                        ),
                        weights=weights,
                        total=f"{total:g}",
                    ),
                )
                return None
        return tuple(groups) if ok else None

    def indicator(self, node: Node, path: str) -> Indicator | None:
        keys = self.mapping(
            node,
            path,
            ("id", "name", "direction", "unit", "source", "normalisation"),
            ("weight",),
        )
        if keys is None:
            return None
        ident = self.identifier(keys["id"], f"{path}.id") if "id" in keys else None
        names = self.names(keys["name"], f"{path}.name") if "name" in keys else None
        direction = (
            self.choice(keys["direction"], f"{path}.direction", DIRECTIONS)
            if "direction" in keys
            else None
        )
        unit = self.text_value(keys["unit"], f"{path}.unit") if "unit" in keys else None
        source = self.source(keys["source"], f"{path}.source") if "source" in keys else None
        weight = 1.0
        if "weight" in keys:
            weight = self.number(keys["weight"], f"{path}.weight", minimum=0)
        norm = None
        if "normalisation" in keys and direction is not None:
            norm = self.normalisation(keys["normalisation"], f"{path}.normalisation", direction)
        if None in (ident, names, direction, unit, source, weight, norm):
            return None
        if source.kind == "survey" and norm.kind in ("per_10k", "yoy"):
            self.report(
                keys["normalisation"],
                f"{path}.normalisation.type",
                Text(
                    N_(
                        "'%(kind)s' needs a monthly series; a survey indicator "
                        "uses target or district"
                    ),
                    kind=norm.kind,
                ),
            )
            return None
        return Indicator(
            ident, names[0], names[1], direction, unit, source, norm, weight, _line(node)
        )

    def source(self, node: Node, path: str) -> Source | None:
        keys = self.mapping(node, path, (), ("series", "survey", "item"))
        if keys is None:
            return None
        if "series" in keys and ("survey" in keys or "item" in keys):
            self.report(
                node, path, Text(N_("give either 'series' or 'survey' and 'item', not both"))
            )
            return None
        if "series" in keys:
            series = self.identifier(keys["series"], f"{path}.series")
            return Source("series", series=series) if series else None
        if "survey" in keys and "item" in keys:
            survey = self.text_value(keys["survey"], f"{path}.survey")
            if survey is not None and not _SLUG_RE.match(survey):
                self.report(
                    keys["survey"],
                    f"{path}.survey",
                    Text(N_("must be a questionnaire id (lower-case letters, digits and -)")),
                )
                survey = None
            item = self.text_value(keys["item"], f"{path}.item")
            return Source("survey", questionnaire=survey, item=item) if survey and item else None
        self.report(
            node,
            path,
            Text(
                N_(
                    "needs 'series' (an administrative series) or 'survey' "
                    "(a questionnaire id) and 'item' (its indicator or "
                    "composite score)"
                )
            ),
        )
        return None

    def normalisation(self, node: Node, path: str, direction: str) -> Normalisation | None:
        keys = self.mapping(node, path, ("type",), ("target", "caps"))
        if keys is None or "type" not in keys:
            return None
        kind = self.choice(keys["type"], f"{path}.type", NORMALISATIONS)
        if kind is None:
            return None
        target = None
        if kind == "target":
            if "target" not in keys:
                self.report(
                    node,
                    path,
                    Text(
                        N_(
                            "type target needs 'target' (the value that scores full "
                            "for a positive indicator, the most tolerated for a "
                            "negative one)"
                        )
                    ),
                )
                return None
            target = self.number(keys["target"], f"{path}.target", positive=True)
            if target is None:
                return None
        elif "target" in keys:
            self.report(
                keys["target"],
                f"{path}.target",
                Text(
                    N_("only type target uses a target (type %(kind)s: give the caps)"), kind=kind
                ),
            )
            return None
        caps = DEFAULT_CAPS.get((kind, direction))
        if "caps" in keys:
            cnode = keys["caps"]
            if not isinstance(cnode, SequenceNode) or len(cnode.value) != 2:
                self.report(cnode, f"{path}.caps", Text(N_("must be two numbers [low, high]")))
                return None
            low = self.number(cnode.value[0], f"{path}.caps[0]")
            high = self.number(cnode.value[1], f"{path}.caps[1]")
            if low is None or high is None:
                return None
            if not low < high:
                self.report(
                    cnode,
                    f"{path}.caps",
                    Text(
                        N_("low (%(low)s) must be below high (%(high)s)"),
                        low=f"{low:g}",
                        high=f"{high:g}",
                    ),
                )
                return None
            caps = (low, high)
        if caps is None:
            self.report(
                node,
                path,
                Text(
                    N_(
                        "type %(kind)s needs 'caps: [low, high]' in residents' "
                        "rates per 10,000 (no default)"
                    ),
                    kind=kind,
                ),
            )
            return None
        return Normalisation(kind, caps, target)


# ------------------------------------------------------------------------- comparison


def definition_changes(old: Definition, new: Definition, lang: str = "zh_CN") -> list[str]:
    """Say what changed from ``old`` to ``new``: groups, indicators, weights, sources, caps."""
    zh = lang != "en"
    out: list[str] = []
    old_groups = {g.id: g for g in old.groups}
    new_groups = {g.id: g for g in new.groups}
    for gid, g in new_groups.items():
        before = old_groups.get(gid)
        if before is None:
            out.append(f"新增分组 {g.name_zh}（{g.weight:g}%）" if zh else f"group {gid} added")
        elif before.weight != g.weight:
            out.append(
                f"分组 {g.name_zh} 权重 {before.weight:g}% → {g.weight:g}%"
                if zh
                else f"group {gid} weight {before.weight:g}% -> {g.weight:g}%"
            )
    for gid, g in old_groups.items():
        if gid not in new_groups:
            out.append(f"删除分组 {g.name_zh}" if zh else f"group {gid} removed")
    old_ind = {i.id: i for i in old.indicators}
    new_ind = {i.id: i for i in new.indicators}
    for iid, ind in new_ind.items():
        name = ind.name(lang)
        before = old_ind.get(iid)
        if before is None:
            out.append(f"新增指标 {name}" if zh else f"indicator {name} added")
            continue
        if old.group_of(iid).id != new.group_of(iid).id:
            out.append(
                f"指标 {name} 移至 {new.group_of(iid).name_zh}"
                if zh
                else f"{name} moved to group {new.group_of(iid).id}"
            )
        for attr, zh_word in (
            ("weight", "权重"),
            ("direction", "方向"),
            ("unit", "单位"),
            ("source", "来源"),
            ("normalisation", "标准化"),
        ):
            a, b = getattr(before, attr), getattr(ind, attr)
            if a != b:
                a, b = _describe(a), _describe(b)
                out.append(
                    f"指标 {name} {zh_word}：{a} → {b}" if zh else f"{name} {attr}: {a} -> {b}"
                )
    for iid, ind in old_ind.items():
        if iid not in new_ind:
            out.append(
                f"删除指标 {ind.name(lang)}" if zh else f"indicator {ind.name(lang)} removed"
            )
    if old.missing != new.missing:
        out.append(
            f"缺失值规则 {old.missing} → {new.missing}"
            if zh
            else f"missing-value rule {old.missing} -> {new.missing}"
        )
    return out


def _describe(value: object) -> str:
    if isinstance(value, Source):
        return value.describe()
    if isinstance(value, Normalisation):
        target = f" {value.target:g}" if value.target is not None else ""
        return f"{value.kind}{target} [{value.caps[0]:g}, {value.caps[1]:g}]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
