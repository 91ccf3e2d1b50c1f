"""Pure, explainable lead scoring over plain data (no ORM).

Fit (who they are) comes from the playbook's `scoring.fit_rules`, each a list of criteria over flat facts;
engagement (what they did) from `scoring.engagement_rules`: points per touch of a kind, only the newest
`max_count` touches per rule, each decayed by half every `engagement_half_life_days` before `as_of`.
total = fit_weight * fit + engagement_weight * engagement.

Every score carries an explanation: one line per rule that contributed, with the points it added to the
*total* (weights and decay applied), so the lines of an explanation sum to the total. Each line also says what the
playbook wrote (`playbook_points` per occurrence), how many times it counted, the decay applied and the weight:
points = weight × playbook_points × count × decay for fit and engagement rules.

`score_many` is the vectorised twin of `score_contact` for full rescoring; it gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from smarketing.lifecycle.enums import Stage
from smarketing.playbook.criteria import MISSING, all_hold, holds
from smarketing.playbook.schema import Criterion, EngagementRule, FitRule, Playbook, Scoring

if TYPE_CHECKING:
    import numpy as np

SECONDS_PER_DAY = 86400.0


# --------------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Touch:
    """One touchpoint as scoring sees it."""

    kind: str
    occurred_at: datetime


@dataclass(frozen=True)
class Contribution:
    """One line of an explanation: a rule, what it means, the points it added to the total, how many times.

    `playbook_points` is what the playbook says per occurrence (a role's weight; for the best-contact line, that
    contact's total), `decay` the mean decay factor over the counted touches (1 for fit, role and contact lines),
    `weight` the playbook weight applied (fit_weight, engagement_weight, contact_score_weight). Lines stored before
    these were recorded read back with None for them.
    """

    rule_id: str
    description: str
    points: float
    count: int
    source: str = "fit"  # fit | engagement | role | contact
    playbook_points: float | None = None
    decay: float | None = None
    weight: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return line_dict(self.rule_id, self.description, self.points, self.count, self.source,
                         self.playbook_points, self.decay, self.weight)

    def summary(self) -> str:
        return line_summary(self.as_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contribution:
        """A line as stored (old lines lack playbook_points, decay and weight; `summary` is derived, not read)."""
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def line_dict(rule_id: str, description: str, points: float, count: int, source: str,
              playbook_points: float | None, decay: float | None, weight: float | None) -> dict[str, Any]:
    """One explanation line as stored and served: rounded figures and the readable `summary`."""
    out: dict[str, Any] = {
        "rule_id": rule_id, "description": description, "points": round(points, 2), "count": count,
        "source": source, "playbook_points": None if playbook_points is None else round(playbook_points, 2),
        "decay": None if decay is None else round(decay, 6), "weight": weight}
    out["summary"] = line_summary(out)
    return out


def _factor(x: float) -> str:
    return f"{x:.2g}" if x < 0.1 else f"{x:.2f}".rstrip("0").rstrip(".")


def line_summary(line: Mapping[str, Any]) -> str:
    """A line in words: "Asked for a demo: 35 pts × 1 × decay 0.03 = 1.0 pts" (older lines: "… : 1.0 pts")."""
    head = f"{line.get('description') or line.get('rule_id', '')}: "
    points, pp, count = float(line.get("points") or 0), line.get("playbook_points"), int(line.get("count") or 1)
    decay, weight, source = line.get("decay"), line.get("weight"), line.get("source", "fit")
    if pp is None:
        return f"{head}{points:.1f} pts"
    weighted = f" × weight {weight:g}" if weight is not None and weight != 1 else ""
    if source == "engagement":
        return f"{head}{pp:g} pts × {count} × decay {_factor(decay or 0)}{weighted} = {points:.1f} pts"
    if source == "role":
        return f"{head}{pp:g} pts ({count} engaged contact{'s' if count != 1 else ''})"
    if source == "contact":
        return f"{head}{pp:.1f} pts{weighted} = {points:.1f} pts"
    return f"{head}{pp:g} pts{weighted} = {points:.1f} pts" if weighted else f"{head}{pp:g} pts"


@dataclass(frozen=True)
class ScoreResult:
    """A contact's fit, engagement and total score with the rules behind them."""

    fit: float
    engagement: float
    total: float
    explanation: list[Contribution] = field(default_factory=list)

    def facts(self) -> dict[str, float]:
        """The `score.*` facts playbook criteria test."""
        return {"score.fit": self.fit, "score.engagement": self.engagement, "score.total": self.total}

    def as_dict(self) -> dict[str, Any]:
        return {"fit": round(self.fit, 2), "engagement": round(self.engagement, 2), "total": round(self.total, 2),
                "explanation": [c.as_dict() for c in self.explanation]}


@dataclass(frozen=True)
class AccountContact:
    """A contact of an account, as the account score sees it."""

    contact_id: int
    buying_role: str
    score: ScoreResult


@dataclass(frozen=True)
class AccountScoreResult:
    """An account's score: buying-committee coverage plus a share of its best contact's total."""

    coverage: float
    best_contact_id: int | None
    best_contact_total: float
    total: float
    engaged_roles: list[str]
    explanation: list[Contribution] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"coverage": round(self.coverage, 2), "best_contact_id": self.best_contact_id,
                "best_contact_total": round(self.best_contact_total, 2), "total": round(self.total, 2),
                "engaged_roles": list(self.engaged_roles),
                "explanation": [c.as_dict() for c in self.explanation]}


# -------------------------------------------------------------------------------------------------- facts


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    else:
        out[prefix] = value


def facts_from(contact: Mapping[str, Any], account: Mapping[str, Any] | None = None,
               score: ScoreResult | None = None) -> dict[str, Any]:
    """Flat facts (`contact.title`, `contact.attributes.country`, `account.industry`, `score.total`) from plain data."""
    out: dict[str, Any] = {}
    for key, value in contact.items():
        _flatten(f"contact.{key}", value, out)
    for key, value in (account or {}).items():
        if not isinstance(value, Mapping):
            out[f"account.{key}"] = value
    if score is not None:
        out.update(score.facts())
    return out


# ------------------------------------------------------------------------------------- one contact at once


def decay_factor(age_days: float, half_life_days: float) -> float:
    """Weight of a touch `age_days` old: 1 now, 0.5 after one half-life."""
    return float(0.5 ** (age_days / half_life_days))


def _age_days(as_of: datetime, occurred_at: datetime) -> float:
    delta = as_of - occurred_at
    # Whole microseconds, then days: the vectorised path divides in exactly the same order.
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros / 1e6 / SECONDS_PER_DAY


def fit_score(scoring: Scoring, facts: Mapping[str, Any]) -> tuple[float, list[Contribution]]:
    """Raw fit points and the fit rules that matched (points in the explanation are weighted)."""
    total = 0.0
    lines = []
    for rule in scoring.fit_rules:
        if all_hold(rule.when, facts):
            total += rule.points
            lines.append(Contribution(rule.id, rule.description, scoring.fit_weight * rule.points, 1, "fit",
                                      float(rule.points), 1.0, scoring.fit_weight))
    return total, lines


def engagement_score(scoring: Scoring, touches: Iterable[Touch], as_of: datetime) -> tuple[float, list[Contribution]]:
    """Raw decayed engagement points and the engagement rules that contributed.

    Touches after `as_of` do not count yet; for each rule only its newest `max_count` touches count.
    """
    by_kind: dict[str, list[float]] = {}
    for t in touches:
        age = _age_days(as_of, t.occurred_at)
        if age >= 0:
            by_kind.setdefault(t.kind, []).append(age)
    for ages in by_kind.values():
        ages.sort()
    hl = scoring.engagement_half_life_days
    total = 0.0
    lines = []
    for rule in scoring.engagement_rules:
        ages = by_kind.get(rule.kind, [])[: rule.max_count]
        if not ages:
            continue
        pts = factors = 0.0
        for age in ages:
            factor = decay_factor(age, hl)
            pts += rule.points * factor
            factors += factor
        total += pts
        lines.append(Contribution(rule.id, rule.description, scoring.engagement_weight * pts, len(ages),
                                  "engagement", float(rule.points), factors / len(ages), scoring.engagement_weight))
    return total, lines


def score_contact(scoring: Scoring, facts: Mapping[str, Any], touches: Iterable[Touch],
                  as_of: datetime) -> ScoreResult:
    """Fit, engagement and total of one contact as of a moment, explained rule by rule."""
    fit, fit_lines = fit_score(scoring, facts)
    eng, eng_lines = engagement_score(scoring, touches, as_of)
    total = scoring.fit_weight * fit + scoring.engagement_weight * eng
    return ScoreResult(fit=fit, engagement=eng, total=total, explanation=fit_lines + eng_lines)


# ------------------------------------------------------------------------------------------ qualification


def _describe(c: Criterion) -> str:
    return f"{c.field} {c.op} {c.value!r}" if c.op != "exists" else f"{c.field} exists"


def mql_unmet(terms: Playbook, score: ScoreResult, facts: Mapping[str, Any]) -> list[str]:
    """Why a contact is not (yet) an MQL: the MQL stage's entry test that fails, threshold first.

    The test is `Playbook.entry_criteria(mql)`: `score.total >= scoring.mql_threshold`, then the stage's own criteria.
    """
    merged = {**facts, **score.facts()}
    unmet = []
    for i, c in enumerate(terms.entry_criteria(Stage.MQL)):
        if holds(c, merged):
            continue
        actual = merged.get(c.field, MISSING)
        if i == 0:  # the threshold criterion
            unmet.append(f"score.total {score.total:.2f} is below the MQL threshold {terms.scoring.mql_threshold:g}")
            continue
        shown = "missing" if actual is MISSING else (f"{actual:.2f}" if isinstance(actual, float) else repr(actual))
        unmet.append(f"{_describe(c)} does not hold (is {shown})")
    return unmet


def qualifies_as_mql(terms: Playbook, score: ScoreResult, facts: Mapping[str, Any]) -> bool:
    """Whether the playbook's MQL threshold and the mql stage's entry criteria hold."""
    return not mql_unmet(terms, score, facts)


# ------------------------------------------------------------------------------------------------ account


def score_account(scoring: Scoring, contacts: Sequence[AccountContact]) -> AccountScoreResult:
    """Coverage (role weight once per engaged buying-committee role) + contact_score_weight × best contact total."""
    rules = scoring.account
    engaged: dict[str, list[int]] = {}
    for c in contacts:
        if c.score.engagement >= rules.min_engaged_engagement:
            engaged.setdefault(c.buying_role, []).append(c.contact_id)
    lines = []
    coverage = 0.0
    for role, weight in rules.role_weights.items():
        ids = engaged.get(str(role), [])
        if ids:
            coverage += weight
            lines.append(Contribution(f"role-{role}", f"Engaged {str(role).replace('_', ' ')}", float(weight),
                                      len(ids), "role", float(weight), 1.0, 1.0))
    best = max(contacts, key=lambda c: (c.score.total, -c.contact_id), default=None)
    best_total = best.score.total if best else 0.0
    share = rules.contact_score_weight * best_total
    if best is not None:
        lines.append(Contribution("best-contact", f"{rules.contact_score_weight:g} × best contact's total "
                                                  f"(contact {best.contact_id})", share, 1, "contact",
                                  best_total, 1.0, rules.contact_score_weight))
    roles = [str(r) for r in rules.role_weights if engaged.get(str(r))]
    return AccountScoreResult(coverage=coverage, best_contact_id=best.contact_id if best else None,
                              best_contact_total=best_total, total=coverage + share, engaged_roles=roles,
                              explanation=lines)


# --------------------------------------------------------------------------------------- many at once


@dataclass(frozen=True)
class TouchArrays:
    """Touches of many contacts as columns: the contact's row index, the kind, when."""

    contact_index: np.ndarray  # int64
    kind: np.ndarray  # object (str)
    occurred_at: np.ndarray  # datetime64[us], UTC

    @classmethod
    def from_lists(cls, touches: Sequence[Iterable[Touch]]) -> TouchArrays:
        import numpy as np  # NumPy loads when a batch is scored, not when the CLI or server starts

        idx, kinds, micros = [], [], []
        for i, ts in enumerate(touches):
            for t in ts:
                idx.append(i)
                kinds.append(t.kind)
                micros.append(_epoch_micros(t.occurred_at))
        return cls(np.asarray(idx, dtype=np.int64), np.asarray(kinds, dtype=object), micros_to_datetime64(micros))


def micros_to_datetime64(micros: Sequence[int]) -> np.ndarray:
    """Microseconds since the epoch (UTC) as a datetime64[us] array."""
    import numpy as np  # NumPy loads when a batch is scored, not when the CLI or server starts

    return np.asarray(micros, dtype=np.int64).view("datetime64[us]")


def to_datetime64(dt: datetime) -> np.datetime64:
    """A timezone-aware datetime as naive-UTC microseconds."""
    import numpy as np  # NumPy loads when a batch is scored, not when the CLI or server starts

    if dt.tzinfo is None:
        raise ValueError("scoring needs timezone-aware datetimes")
    return np.datetime64(_epoch_micros(dt), "us")


def epoch_micros(dt: datetime) -> int:
    """A timezone-aware datetime as whole microseconds since the epoch (exact, no float rounding)."""
    return _epoch_micros(dt)


def _epoch_micros(dt: datetime) -> int:
    if dt.tzinfo is None:
        raise ValueError("scoring needs timezone-aware datetimes")
    delta = dt.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class BatchScores:
    """Scores of many contacts: arrays plus per-rule contribution and count matrices (rows = contacts)."""

    rule_ids: list[str]
    descriptions: list[str]
    sources: list[str]
    fit: np.ndarray
    engagement: np.ndarray
    total: np.ndarray
    points: np.ndarray  # (n_contacts, n_rules) weighted contribution to the total
    counts: np.ndarray  # (n_contacts, n_rules)
    playbook_points: list[float]  # per rule, as the playbook writes it per occurrence
    weights: list[float]  # per rule, fit_weight or engagement_weight
    decay: np.ndarray  # (n_contacts, n_rules) mean decay factor of the counted touches (1 for fit rules)

    def __len__(self) -> int:
        return int(self.total.shape[0])

    def result(self, i: int) -> ScoreResult:
        """Row i as a ScoreResult (same shape as score_contact's)."""
        lines = [Contribution(self.rule_ids[j], self.descriptions[j], float(self.points[i, j]),
                              int(self.counts[i, j]), self.sources[j], self.playbook_points[j],
                              float(self.decay[i, j]), self.weights[j])
                 for j in range(len(self.rule_ids)) if self.counts[i, j] > 0]
        return ScoreResult(fit=float(self.fit[i]), engagement=float(self.engagement[i]), total=float(self.total[i]),
                           explanation=lines)


def _key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    # 1, 1.0 and True hash alike but print differently (which `contains` sees).
    return (type(value), value)


@dataclass(frozen=True)
class _Column:
    """One fact across all contacts, factorised: each row's code into the distinct values."""

    codes: np.ndarray
    uniques: list[Any]


def _column(field_name: str, facts: Sequence[Mapping[str, Any]]) -> _Column:
    import numpy as np  # NumPy and pandas load when a batch is scored, not when the CLI or server starts
    import pandas as pd

    values = [f.get(field_name, MISSING) for f in facts]
    if all(type(v) is str for v in values):
        # The common case (industries, roles, emails): strings hash and compare plainly, so factorise in C.
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
        return _Column(np.asarray(codes, dtype=np.int64), list(uniques))
    out = np.empty(len(values), dtype=np.int64)
    seen: dict[Any, int] = {}
    distinct: list[Any] = []
    for i, value in enumerate(values):
        k = _key(value)
        code = seen.get(k)
        if code is None:
            code = seen[k] = len(distinct)
            distinct.append(value)
        out[i] = code
    return _Column(out, distinct)


def _as_number(value: Any) -> float:
    if value is MISSING or value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _criterion_mask(c: Criterion, column: _Column) -> np.ndarray:
    """Evaluate one criterion for every contact, testing each distinct value once (numbers all at once).

    Same verdicts as `criteria.holds`: a missing or non-numeric value fails a comparison (NaN compares false).
    """
    import numpy as np  # NumPy loads when a batch is scored, not when the CLI or server starts

    compare = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}
    if not column.uniques:
        return np.zeros(0, dtype=bool)
    if c.op in compare:
        numbers = np.asarray([_as_number(u) for u in column.uniques], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            verdicts = compare[c.op](numbers, float(c.value))
    else:
        verdicts = np.asarray([holds(c, {c.field: u} if u is not MISSING else {}) for u in column.uniques],
                              dtype=bool)
    return np.asarray(verdicts, dtype=bool)[column.codes]


def score_many(scoring: Scoring, facts: Sequence[Mapping[str, Any]], touches: TouchArrays,
               as_of: datetime | np.ndarray) -> BatchScores:
    """Vectorised score_contact for many contacts: same numbers, a fraction of the time.

    `as_of` is one moment for all, or a datetime64[us] array with each contact's own moment (e.g. when its
    outcome was decided, to see the score it had then).
    """
    import numpy as np  # NumPy and pandas load when a batch is scored, not when the CLI or server starts
    import pandas as pd

    n = len(facts)
    n_fit, n_eng = len(scoring.fit_rules), len(scoring.engagement_rules)
    points = np.zeros((n, n_fit + n_eng), dtype=np.float64)
    counts = np.zeros((n, n_fit + n_eng), dtype=np.int64)
    decay = np.ones((n, n_fit + n_eng), dtype=np.float64)

    fit = np.zeros(n, dtype=np.float64)
    columns: dict[str, _Column] = {}
    for j, frule in enumerate(scoring.fit_rules):
        mask = np.ones(n, dtype=bool)
        for c in frule.when:
            if c.field not in columns:
                columns[c.field] = _column(c.field, facts)
            mask &= _criterion_mask(c, columns[c.field])
        fit += np.where(mask, float(frule.points), 0.0)
        points[:, j] = np.where(mask, scoring.fit_weight * frule.points, 0.0)
        counts[:, j] = mask.astype(np.int64)

    engagement = np.zeros(n, dtype=np.float64)
    if isinstance(as_of, datetime):
        as_of64: Any = np.datetime64(_epoch_micros(as_of), "us")
    else:
        as_of64 = np.asarray(as_of, dtype="datetime64[us]")[touches.contact_index]
    age = (as_of64 - touches.occurred_at).astype("timedelta64[us]").astype(np.int64).astype(np.float64)
    age = age / 1e6 / SECONDS_PER_DAY
    valid = age >= 0
    idx, kinds, age = touches.contact_index[valid], touches.kind[valid], age[valid]
    # Newest first within each contact, the order score_contact adds in.
    order = np.lexsort((age, idx))
    idx, kinds, age = idx[order], kinds[order], age[order]
    kind_codes, kind_names = pd.factorize(kinds, use_na_sentinel=False) if kinds.size else (kinds, [])
    code_of = {str(name): c for c, name in enumerate(kind_names)}
    hl = scoring.engagement_half_life_days
    for k, rule in enumerate(scoring.engagement_rules):
        j = n_fit + k
        if str(rule.kind) not in code_of:
            continue
        sel = kind_codes == code_of[str(rule.kind)]
        r_idx, r_age = idx[sel], age[sel]
        if r_idx.size == 0:
            continue
        # Rank within each contact's run (already sorted newest first).
        starts = np.r_[0, np.flatnonzero(np.diff(r_idx)) + 1]
        run_start = np.repeat(starts, np.diff(np.r_[starts, r_idx.size]))
        keep = (np.arange(r_idx.size) - run_start) < rule.max_count
        r_idx, r_age = r_idx[keep], r_age[keep]
        factor = np.power(0.5, r_age / hl)
        contrib = rule.points * factor
        raw = _ordered_sum(r_idx, contrib, n)
        engagement += raw
        points[:, j] = scoring.engagement_weight * raw
        counts[:, j] = np.bincount(r_idx, minlength=n)
        decay[:, j] = _ordered_sum(r_idx, factor, n) / np.maximum(counts[:, j], 1)
    total = scoring.fit_weight * fit + scoring.engagement_weight * engagement
    rules: list[FitRule | EngagementRule] = [*scoring.fit_rules, *scoring.engagement_rules]
    return BatchScores(rule_ids=[r.id for r in rules], descriptions=[r.description for r in rules],
                       sources=["fit"] * n_fit + ["engagement"] * n_eng, fit=fit, engagement=engagement,
                       total=total, points=points, counts=counts,
                       playbook_points=[float(r.points) for r in rules],
                       weights=[scoring.fit_weight] * n_fit + [scoring.engagement_weight] * n_eng, decay=decay)


def _ordered_sum(idx: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-contact sums; bincount adds in array order (newest first), as the scalar loop does."""
    import numpy as np  # NumPy loads when a batch is scored, not when the CLI or server starts

    return np.bincount(idx, weights=values, minlength=n).astype(np.float64)
