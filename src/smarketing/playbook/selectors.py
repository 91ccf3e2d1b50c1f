"""Reads of the playbook."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from smarketing.core.errors import Conflict, NotFound
from smarketing.playbook import schema
from smarketing.playbook.enums import VersionStatus
from smarketing.playbook.impact import Impact, commitment_check, history_months, impact_side
from smarketing.playbook.models import PlaybookVersion


def default_playbook_data() -> dict[str, Any]:
    """The shipped default playbook as raw data."""
    import yaml  # Why here: reading a version's terms (`playbook show`, scoring) needs no YAML parser

    text = resources.files("smarketing.playbook").joinpath("default_playbook.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def playbook_version_active_get() -> PlaybookVersion:
    """The active version, or a Conflict telling the user how to get one."""
    version = PlaybookVersion.objects.filter(status=VersionStatus.ACTIVE).first()
    if version is None:
        raise Conflict("no active playbook: import one and have marketing and sales sign it off "
                       "(smarketing playbook import FILE; then sign off in the web app or the API)",
                       record="playbook")
    return version


def playbook_version_get(*, number: int) -> PlaybookVersion:
    """One version by its number."""
    version = (PlaybookVersion.objects.prefetch_related("signoffs__user").select_related("created_by", "based_on")
               .filter(number=number).first())
    if version is None:
        raise NotFound(f"playbook version {number} does not exist", record=f"playbook:v{number}")
    return version


def playbook_version_list() -> list[PlaybookVersion]:
    """All versions, newest first, with their sign-offs."""
    return list(PlaybookVersion.objects.prefetch_related("signoffs__user").select_related("created_by", "based_on"))


class VersionsInForce:
    """Which playbook version was in force at a time: the latest activated at or before it.

    A version is in force from its activation until the next one supersedes it, so the versions are laid out by
    the time each stopped being in force (`superseded_at`; the active version never stopped). Where activation
    times were recorded in order these are the same boundaries; where they were not (the demo adopts its first
    version when the database is created, then back-dates the second's activation), the supersession times still
    tell which version governed a time. History older than the first activation is judged by the first version
    ever activated, the agreement the company adopted when it started recording (every stage change needs one).
    Load it once with `playbook_versions_in_force()` and ask `.at(when)` for as many rows as needed.
    """

    def __init__(self, versions: list[PlaybookVersion]) -> None:
        forever = datetime.max.replace(tzinfo=UTC)
        governed = [v for v in versions if v.status == VersionStatus.ACTIVE
                    or (v.status == VersionStatus.SUPERSEDED and v.activated_at is not None)]
        if not governed:  # raises the "no active playbook" Conflict when there is none
            governed = [playbook_version_active_get()]

        def ended(v: PlaybookVersion) -> tuple[datetime, int]:
            if v.status == VersionStatus.ACTIVE:
                return forever, v.number
            return (v.superseded_at or v.activated_at or forever), v.number

        ordered = sorted(governed, key=ended)
        self.ends = [ended(v)[0] for v in ordered]
        self.versions = ordered

    def at(self, when: datetime) -> PlaybookVersion:
        """The version in force at `when` (a timezone-aware time): the first one not yet superseded then."""
        i = bisect.bisect_right(self.ends, when)
        return self.versions[min(i, len(self.versions) - 1)]


def playbook_versions_in_force() -> VersionsInForce:
    """Every version that was ever active, to stamp many rows with the version in force at each one's time."""
    return VersionsInForce(list(PlaybookVersion.objects.filter(
        status__in=[VersionStatus.ACTIVE, VersionStatus.SUPERSEDED])))


def playbook_version_in_force(at: datetime) -> PlaybookVersion:
    """The version in force at a time: the latest activated at or before it (the first one for older history)."""
    return playbook_versions_in_force().at(at)


def playbook_terms_in_force(at: datetime) -> tuple[PlaybookVersion, schema.Playbook]:
    """The version in force at a time with its validated terms."""
    version = playbook_version_in_force(at)
    return version, playbook_terms(version)


@lru_cache(maxsize=32)
def _parsed(version_id: int, sha: str) -> schema.Playbook:
    version = PlaybookVersion.objects.get(pk=version_id)
    return schema.load(version.content)


def playbook_terms(version: PlaybookVersion) -> schema.Playbook:
    """The validated terms of a version (cached by content hash, since signed content never changes)."""
    return _parsed(version.pk, version.content_sha)


def playbook_active_terms() -> tuple[PlaybookVersion, schema.Playbook]:
    """The active version with its validated terms."""
    version = playbook_version_active_get()
    return version, playbook_terms(version)


def playbook_to_yaml(version: PlaybookVersion) -> str:
    """A version as one YAML file (what `playbook export` writes)."""
    header = (f"# smarketing playbook v{version.number} ({version.status})\n"
              f"# content sha256: {version.content_sha}\n")
    import yaml

    return header + yaml.safe_dump(version.content, sort_keys=False, allow_unicode=True)


def playbook_diff(old: PlaybookVersion | None, new: PlaybookVersion) -> list[str]:
    """A unified diff of two versions' YAML, for the version history."""
    import difflib

    import yaml

    a = yaml.safe_dump(old.content, sort_keys=False).splitlines() if old else []
    b = yaml.safe_dump(new.content, sort_keys=False).splitlines()
    return list(difflib.unified_diff(a, b, fromfile=f"v{old.number}" if old else "(none)",
                                     tofile=f"v{new.number}", lineterm=""))


IMPACT_WINDOW_DAYS = 365
_IMPACT_MEMO_MAX = 8
_impact_memo: dict[tuple[str, str], tuple[list[Any], str]] = {}


def _outcomes_under(scoring: schema.Scoring, since: datetime | None) -> tuple[list[Any], str]:
    """The history's outcomes scored by these terms, remembered per (scoring rules, data fingerprint).

    Why the threshold is left out of the key: it decides who counts as an MQL, not anyone's score, so a draft that
    only moves the threshold reuses the active version's scores (the editor's preview asks on every change).
    """
    import hashlib
    import json

    from smarketing.campaigns.selectors import campaigns_data_version
    from smarketing.crm.selectors import crm_data_version
    from smarketing.lifecycle.selectors import stage_change_last_id
    from smarketing.scoring.selectors import threshold_outcomes

    rules = json.dumps(scoring.model_dump(mode="json", exclude={"mql_threshold"}), sort_keys=True)
    data = f"{crm_data_version()[0]}|{stage_change_last_id()}|{campaigns_data_version()}"
    key = (hashlib.sha256(rules.encode()).hexdigest(), f"{data}|{since}")
    hit = _impact_memo.get(key)
    if hit is None:
        hit = threshold_outcomes(score="total", scoring=scoring, since=since)
        if len(_impact_memo) >= _IMPACT_MEMO_MAX:
            oldest = next(iter(_impact_memo), None)
            if oldest is not None:  # another thread may have emptied it
                _impact_memo.pop(oldest, None)
        _impact_memo[key] = hit
    return hit


def playbook_impact(draft: PlaybookVersion | schema.Playbook) -> Impact:
    """What a draft's scoring terms would have done to the last year of history, next to the active version's (MQLs
    per month, acceptance, opportunity and win rates at each side's MQL threshold; the draft's marketing SLA
    against them). Contacts count when decided (or, undecided, last touched) in that year.

    `draft` is a stored version or unsaved terms (the editor's preview); the web page, the API and the CLI read this.
    """
    from smarketing.lifecycle.selectors import stage_change_span

    active, active_terms = playbook_active_terms()
    if isinstance(draft, PlaybookVersion):
        number, status, terms = draft.number, str(draft.status), playbook_terms(draft)
    else:
        number, status, terms = None, "unsaved", draft
    first, last = stage_change_span()
    # The last year of history: recent enough to read against this year's commitments, long enough for seasons.
    start = max(first, last - timedelta(days=IMPACT_WINDOW_DAYS)) if first and last else None
    months = history_months((last - start).total_seconds() / 86400 if start and last else None)
    active_outcomes, basis = _outcomes_under(active_terms.scoring, start)
    draft_outcomes, _ = _outcomes_under(terms.scoring, start)
    active_side = impact_side(active_outcomes, threshold=active_terms.scoring.mql_threshold, months=months,
                              version=active.number, status=str(active.status))
    draft_side = impact_side(draft_outcomes, threshold=terms.scoring.mql_threshold, months=months, version=number,
                             status=status)
    marketing = terms.sla.marketing
    return Impact(
        active=active_side, draft=draft_side, contacts=len(draft_outcomes), months=months,
        history_from=start.date().isoformat() if start else None, history_to=last.date().isoformat() if last else None,
        scoring_changed=(terms.scoring.model_dump(exclude={"mql_threshold"})
                         != active_terms.scoring.model_dump(exclude={"mql_threshold"})),
        commitment=commitment_check(draft_side, period=marketing.period, mql_volume=marketing.mql_volume,
                                    min_acceptance_rate=marketing.min_acceptance_rate),
        basis=basis)


def playbook_content_check(data: Any) -> tuple[schema.Playbook | None, list[dict[str, str]]]:
    """Raw content read as a draft would be (shape, finite numbers, contradictions): its terms, or every problem
    named by its field path. Nothing is written; the editor's preview and inline checks ask here."""
    try:
        return schema.parse(data), []
    except schema.PlaybookInvalid as exc:
        return None, [{"field": str(e["field"]), "message": str(e["message"])} for e in exc.errors]
