"""A level's sorted touches are kept on disk for the store they were read from: another process (a fresh engine)
reading the very same store loads them instead of reading and sorting again; a store that moved on reads afresh;
a damaged set is recomputed, never trusted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pytest

from smarketing.analytics.kernels import journeys as journey_kernels
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401 - the shared fixture


@pytest.fixture
def lake(settings, tmp_path) -> Any:
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    settings.DATA_DIR = tmp_path / "data"
    return tmp_path / "data" / "cache" / "touches"


@pytest.fixture
def sorts(monkeypatch) -> list[int]:
    """One entry each time a level's touches are read from the engine and sorted."""
    calls: list[int] = []
    sorted_rows = journey_kernels.sorted_rows

    def counted(*args: Any) -> Any:
        calls.append(1)
        return sorted_rows(*args)

    monkeypatch.setattr(journey_kernels, "sorted_rows", counted)
    return calls


def _touches(level: Literal["contact", "account"]) -> Any:
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.queries.touches import subject_touches

    with open_engine() as engine:  # a fresh engine each time: a process of its own, as far as the memo goes
        return subject_touches(engine, level)


def _same(a: Any, b: Any) -> None:
    for name in ("subject", "t_epoch", "touch_id", "channel", "campaign"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.channel_names == b.channel_names and a.campaign_names == b.campaign_names
    assert np.array_equal(a.runs.key, b.runs.key) and (a.runs.tmin, a.runs.span) == (b.runs.tmin, b.runs.span)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", ["contact", "account"])
def test_a_second_engine_on_the_same_store_loads_the_kept_touches(company, lake, sorts, level):  # noqa: F811
    # given one engine that read and sorted the level's touches
    first = _touches(level)
    assert len(sorts) == 1 and first.subject.size > 0
    # when another engine reads the same store
    second = _touches(level)
    # then it loaded them (no read, no sort): the same arrays, writable as computed ones are
    assert len(sorts) == 1
    _same(first, second)
    assert second.subject.flags.writeable
    assert [p.name.split("-")[0] for p in lake.iterdir()] == [level]


def _recorded_touches(level: str) -> list[Any]:
    """Touches recorded after others were kept: one backdated before a subject's first touch, one on a new
    contact of an existing account, one of a new campaign, one in a channel outside the known list, one at the
    very time of an existing touch (the id breaks the tie)."""
    from smarketing.campaigns.models import Touchpoint
    from smarketing.crm.models import Contact
    from smarketing.testing.factories import CampaignFactory, ContactFactory, TouchpointFactory

    first = Contact.objects.order_by("id").first()
    assert first is not None
    tied = Touchpoint.objects.filter(contact=first).order_by("occurred_at").first()
    assert tied is not None
    return [
        TouchpointFactory(contact=first, kind="ad_click", channel="paid_search", campaign=None,
                          occurred_at=datetime(2025, 1, 1, 10, tzinfo=UTC)),
        TouchpointFactory(contact=ContactFactory(account=first.account), kind="ad_click", channel="paid_social",
                          occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC)),
        TouchpointFactory(contact=first, campaign=CampaignFactory(name="Spring", channel="event"), kind="event",
                          channel="event", occurred_at=datetime(2026, 3, 2, 10, tzinfo=UTC)),
        TouchpointFactory(contact=first, kind="ad_click", channel="carrier pigeon", campaign=None,
                          occurred_at=datetime(2026, 3, 3, 10, tzinfo=UTC)),
        TouchpointFactory(contact=first, kind="ad_click", channel="content", occurred_at=tied.occurred_at),
    ]


def _names(touches: Any) -> tuple[list[str], list[str]]:
    """Each touch's channel and campaign by name (the codes' numbering may differ between two equal sets)."""
    return ([touches.channel_names[c] for c in touches.channel], [touches.campaign_names[c] for c in touches.campaign])


@pytest.fixture
def sorted_counts(monkeypatch) -> list[int]:
    """How many rows each read of the touches sorted."""
    counts: list[int] = []
    sorted_rows = journey_kernels.sorted_rows

    def counted(*args: Any) -> Any:
        counts.append(args[0].shape[0])
        return sorted_rows(*args)

    monkeypatch.setattr(journey_kernels, "sorted_rows", counted)
    return counts


def _same_as_a_read_of_all(kept: Any, lake: Any, level: Literal["contact", "account"]) -> None:
    """`kept` holds what a read of every touch gives (the kept sets removed first, once the set being written in the
    background is written: removing the folder under that writer failed with "directory not empty")."""
    import shutil

    from smarketing.core import background

    background.finish()
    shutil.rmtree(lake)
    afresh = _touches(level)
    for name in ("subject", "t_epoch", "touch_id"):
        assert np.array_equal(getattr(kept, name), getattr(afresh, name)), name
    assert _names(kept) == _names(afresh)
    assert kept.campaign_names == afresh.campaign_names and set(kept.channel_names) == set(afresh.channel_names)
    assert np.array_equal(kept.runs.key, afresh.runs.key) and kept.runs.firsts.tolist() == afresh.runs.firsts.tolist()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", ["contact", "account"])
def test_touches_recorded_since_are_merged_into_the_kept_set(company, lake, sorted_counts, level):  # noqa: F811
    # given kept touches
    _touches(level)
    # when touches are recorded and the touches are read again
    new = _recorded_touches(level)
    after = _touches(level)
    # then only the new touches were read and sorted, and merged in: the very set a read of every touch gives
    assert sorted_counts[-1] == len(new)
    assert {t.pk for t in new} <= set(after.touch_id.tolist())
    _same_as_a_read_of_all(after, lake, level)
    assert sorted_counts[-1] == after.subject.shape[0] > len(new)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", ["contact", "account"])
def test_touches_recorded_since_in_a_month_compacted_since_are_merged_in(company, lake, sorted_counts, level,  # noqa: F811
                                                                         monkeypatch):
    from smarketing.analytics.store import sync
    from smarketing.analytics.store.layout import configured_lake, manifest_read

    # given kept touches, and a store that merges a month's files as soon as it has two
    _touches(level)
    monkeypatch.setattr(sync, "COMPACT_AT", 2)
    # when touches are recorded (their catch-up merges their months: the new rows land in merged files) and read
    new = _recorded_touches(level)
    after = _touches(level)
    assert manifest_read(configured_lake(), "touchpoints").retired  # (months were merged)
    # then only the new touches were read (from the files that may hold them), and the set is a read of all
    assert sorted_counts[-1] == len(new)
    _same_as_a_read_of_all(after, lake, level)


@pytest.mark.django_db(transaction=True)
def test_the_extended_set_is_kept_and_the_old_set_goes(company, lake, sorts):  # noqa: F811
    # given kept touches, extended by a process after touches were recorded
    _touches("contact")
    before = {p.name for p in lake.iterdir()}
    _recorded_touches("contact")
    extended = _touches("contact")
    # when another process reads the same store
    again = _touches("contact")
    # then it loads the extended set; only that set is kept
    assert len(sorts) == 2  # the first read, the new touches; none for the third
    _same(extended, again)
    assert len(before) == 1 and {p.name for p in lake.iterdir()}.isdisjoint(before)
    assert len(list(lake.iterdir())) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", ["contact", "account"])
def test_touches_corrected_since_are_taken_out_of_the_kept_set(company, lake, users, sorted_counts,  # noqa: F811
                                                               level):
    from smarketing.campaigns.models import Touchpoint
    from smarketing.campaigns.services import touchpoint_correct

    # given kept touches, among them the only touch of a campaign and the only one in a channel outside the list
    lonely, odd = _recorded_touches(level)[2:4]
    first = _touches(level)
    assert {lonely.pk, odd.pk} <= set(first.touch_id.tolist())
    # when a touch is corrected away, and the two others, and the touches are read again
    gone = Touchpoint.objects.order_by("id").first()
    assert gone is not None
    for touch in (gone, lonely, odd):
        touchpoint_correct(touchpoint_id=touch.pk, reason="a duplicate of the CRM's import",
                           corrected_by=users["revops"])
    after = _touches(level)
    # then no touch was read again: the corrected ones were taken out, their campaign and channel with them
    assert sorted_counts[-1] == 0
    assert not {gone.pk, lonely.pk, odd.pk} & set(after.touch_id.tolist())
    assert after.subject.shape[0] == first.subject.shape[0] - 3
    assert str(lonely.campaign_id) not in after.campaign_names and "carrier pigeon" not in after.channel_names
    _same_as_a_read_of_all(after, lake, level)


@pytest.mark.django_db(transaction=True)
def test_a_damaged_set_is_recomputed(company, lake, sorts):  # noqa: F811
    # given kept touches whose arrays file was cut short
    first = _touches("contact")
    (kept,) = lake.iterdir()
    data = (kept / "touch_id.npy").read_bytes()
    (kept / "touch_id.npy").write_bytes(data[: len(data) // 2])
    # when they are read again
    again = _touches("contact")
    # then they were computed (not loaded) and are right
    assert len(sorts) == 2
    _same(first, again)


@pytest.mark.django_db(transaction=True)
def test_other_code_never_loads_the_kept_touches(company, lake, sorts, monkeypatch):  # noqa: F811
    from smarketing.analytics.store import touches_cache

    # given touches kept by this code
    _touches("contact")
    # when code that computes them differently (an upgrade) reads the same store
    monkeypatch.setattr(touches_cache, "_code", lambda: "another version")
    _touches("contact")
    # then it computed them itself
    assert len(sorts) == 2


@pytest.mark.django_db(transaction=True)
def test_account_touches_that_took_their_contacts_account_are_read_afresh_when_contacts_change(company, lake,  # noqa: F811
                                                                                              sorts):
    from smarketing.crm.models import Contact
    from smarketing.testing.factories import AccountFactory, TouchpointFactory

    # given kept account-level touches, one of them recorded without its account (it takes its contact's)
    contact = Contact.objects.order_by("id").first()
    assert contact is not None
    TouchpointFactory(contact=contact, account=None, occurred_at=datetime(2026, 4, 1, tzinfo=UTC))
    _touches("account")
    # when the contact moves to another account
    moved_to = AccountFactory()
    Contact.objects.filter(pk=contact.pk).update(account=moved_to)
    Contact.objects.get(pk=contact.pk).save()  # through the model, so its updated-at mark moves
    after = _touches("account")
    # then every touch was read again: the touch without an account follows its contact
    assert len(sorts) == 2
    assert moved_to.pk in after.subject


def test_a_kept_set_serves_only_a_store_that_appended_touches_to_the_same_copy():
    from smarketing.analytics.store.layout import Manifest
    from smarketing.analytics.store.touches_cache import reuse

    def source(touchpoints: Manifest, *, corrections: str = "c1", contacts: str = "k1", read: bool = False,
               code: str = "v1") -> dict[str, Any]:
        return {"format": 2, "code": code, "level": "account", "channels": ["email"], "lake": "lake",
                "contacts_read": read,
                "tables": {"touchpoints": touchpoints.to_json(), "touchpoint_corrections": corrections,
                           "contacts": contacts}}

    kept = Manifest("touchpoints", files=["a"], high_water=100, database="db", lineage="L1")
    appended = Manifest("touchpoints", files=["a", "b"], high_water=150, database="db", lineage="L1")
    assert reuse(source(kept), source(kept)) == "same"
    assert reuse(source(kept), source(kept, contacts="k2")) == "same"  # contacts not read: not a source
    assert reuse(source(kept), source(appended)) == "extend"
    corrections = Manifest("touchpoint_corrections", high_water=3, database="db", lineage="C1").to_json()
    corrected = Manifest("touchpoint_corrections", high_water=5, database="db", lineage="C1").to_json()
    recopied = Manifest("touchpoint_corrections", high_water=5, database="db", lineage="C2").to_json()
    assert reuse(source(kept, corrections=corrections), source(kept, corrections=corrected)) == "extend"
    assert reuse(source(kept, corrections=corrections), source(appended, corrections=recopied)) is None
    assert reuse(source(kept, read=True), source(appended, contacts="k2")) is None  # a touch may have moved
    assert reuse(source(kept), source(appended, code="v2")) is None  # other code
    copied_again = Manifest("touchpoints", files=["a", "b"], high_water=150, database="db", lineage="L2")
    assert reuse(source(kept), source(copied_again)) is None
    no_lineage = Manifest("touchpoints", files=["a"], high_water=100, database="db")
    assert reuse(source(no_lineage), source(Manifest("touchpoints", high_water=150, database="db"))) is None
    shrunk = Manifest("touchpoints", files=["a"], high_water=90, database="db", lineage="L1")
    assert reuse(source(kept), source(shrunk)) is None


@pytest.mark.parametrize("on_threads", [False, True])
def test_merging_sorted_touches_gives_the_order_a_sort_of_all_gives(on_threads, monkeypatch):
    from smarketing.analytics.kernels import loops
    from smarketing.analytics.queries.touches import NO_CAMPAIGN, SubjectTouches, _subject_runs, extended

    if on_threads:  # (a large history's columns are merged on the kernel threads, one column each)
        monkeypatch.setattr(loops, "PARALLEL_MIN_TOUCHES", 0)

    rng = np.random.default_rng(5)
    n = 5000
    subject = rng.integers(0, 300, n)
    t = rng.integers(0, 50, n) * 3600 + 1_700_000_000  # many ties in time
    ids = rng.permutation(n) + 1
    channel = rng.integers(0, 3, n).astype(np.int32)
    campaign_id = rng.integers(0, 6, n)  # 5 = no campaign

    def sorted_set(rows: np.ndarray, channel_names: tuple[str, ...], codes_of_channel: np.ndarray) -> SubjectTouches:
        order = rows[np.lexsort((ids[rows], t[rows], subject[rows]))]
        present = sorted({int(c) for c in campaign_id[order] if c != 5})
        names = (*(str(c) for c in present), NO_CAMPAIGN)
        camp = np.array([names.index(str(c)) if c != 5 else len(names) - 1 for c in campaign_id[order]],
                        dtype=np.int32)
        return SubjectTouches(subject=subject[order], t_epoch=t[order], touch_id=ids[order],
                              channel=codes_of_channel[channel[order]], channel_names=channel_names,
                              campaign=camp, campaign_names=names, runs=_subject_runs(subject[order], t[order]))

    kept_rows = np.flatnonzero((ids <= 4000) & (campaign_id != 4))  # campaign 4 appears only among the new
    new_rows = np.flatnonzero(ids > 4000)
    kept = sorted_set(kept_rows, ("email", "event", "other"), np.array([0, 1, 2], dtype=np.int32))
    new = sorted_set(new_rows, ("event", "carrier pigeon", "email"), np.array([2, 0, 1], dtype=np.int32))
    merged = extended(kept, new)
    everything = np.concatenate([kept_rows, new_rows])
    order = everything[np.lexsort((ids[everything], t[everything], subject[everything]))]
    assert merged.touch_id.tolist() == ids[order].tolist()
    assert merged.subject.tolist() == subject[order].tolist() and merged.t_epoch.tolist() == t[order].tolist()
    names_of = {0: "email", 1: "event", 2: "other"}
    names_new = {0: "email", 1: "event", 2: "carrier pigeon"}  # the new set's coding of the same raw channels
    expected = [names_of[channel[r]] if ids[r] <= 4000 else names_new[channel[r]] for r in order]
    assert [merged.channel_names[c] for c in merged.channel] == expected
    assert merged.channel_names[:3] == ("email", "event", "other")
    assert [merged.campaign_names[c] for c in merged.campaign] == [
        NO_CAMPAIGN if campaign_id[r] == 5 else str(campaign_id[r]) for r in order]
    assert merged.campaign_names == ("0", "1", "2", "3", "4", NO_CAMPAIGN)
    runs = _subject_runs(subject[order], t[order])
    assert np.array_equal(merged.runs.key, runs.key) and np.array_equal(merged.runs.firsts, runs.firsts)
