"""The playbook version in force at a time: the latest activated at or before it, the first one before any."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.core.errors import Conflict
from smarketing.playbook.selectors import (
    default_playbook_data,
    playbook_version_in_force,
    playbook_versions_in_force,
)
from smarketing.playbook.services import playbook_draft_create


def at(month: int, day: int = 1, year: int = 2026, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(("when", "expected"), [
    (at(1, 20), "v1"),                     # in January, v1 was the agreement
    (at(4, 2), "v2"),                      # after v2's activation
    (at(3, 1, hour=9), "v2"),              # the instant of activation belongs to the new version
    (at(3, 1, hour=8), "v1"),              # an hour before it, still v1
    (at(12, 1, year=2025), "v1"),          # history older than any activation: the first version ever activated
    (at(9, 1), "v2"),                      # a time after today: the latest activation
])
def test_the_version_in_force_is_the_latest_activated_at_or_before_the_time(v1_january_v2_march, when, expected):
    v1, v2 = v1_january_v2_march
    version = playbook_version_in_force(when)
    assert version.pk == {"v1": v1.pk, "v2": v2.pk}[expected]


def test_the_batch_form_answers_as_the_single_lookup_with_one_query(v1_january_v2_march, django_assert_num_queries):
    times = [at(1, 20), at(4, 2), at(3, 1, hour=9), at(3, 1, hour=8), at(12, 1, year=2025)]
    with django_assert_num_queries(1):
        in_force = playbook_versions_in_force()
        batch = [in_force.at(t).pk for t in times]
    assert batch == [playbook_version_in_force(t).pk for t in times]
    assert batch == [v1_january_v2_march[0].pk, v1_january_v2_march[1].pk, v1_january_v2_march[1].pk, v1_january_v2_march[0].pk,
                     v1_january_v2_march[0].pk]


def test_without_any_activated_version_the_lookup_says_how_to_get_one(db):
    with pytest.raises(Conflict, match="no active playbook"):
        playbook_version_in_force(at(1))


def test_supersession_times_decide_when_activations_were_recorded_out_of_order(v1_january_v2_march):
    # given the old demo's shape: v1 adopted when the database was created (June), v2's activation back-dated to March
    from smarketing.playbook.models import PlaybookVersion

    v1, v2 = v1_january_v2_march
    PlaybookVersion.objects.filter(pk=v1.pk).update(activated_at=at(6))
    # then v1 still governs what happened before it was superseded, and v2 everything since, today included
    assert [playbook_version_in_force(t).pk for t in (at(1, 20), at(3, 1, hour=8), at(4, 2), at(6), at(7))] == [
        v1.pk, v1.pk, v2.pk, v2.pk, v2.pk]


def test_a_draft_never_activated_is_never_in_force(v1_january_v2_march):
    v1, v2 = v1_january_v2_march
    draft = playbook_draft_create(content=default_playbook_data())
    assert draft.activated_at is None
    assert {playbook_version_in_force(t).pk for t in (at(1, 20), at(4, 2), at(9))} == {v1.pk, v2.pk}
