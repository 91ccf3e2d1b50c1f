"""The demo's playbook versions are in force over the simulated history they judge."""

from __future__ import annotations

import pytest

from smarketing.demo import simulator
from smarketing.demo.services import demo_seed
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.selectors import playbook_version_in_force, playbook_versions_in_force

pytestmark = pytest.mark.slow


def test_every_seeded_stage_change_carries_the_version_activated_before_it_and_not_yet_superseded(active_playbook):
    # given a database where `smarketing migrate` adopted the shipped default today
    assert active_playbook.activated_at > simulator.start_datetime()
    # when the small demo is seeded
    demo_seed(size="small", seed=1)
    # then v1 was adopted on the first simulated day and v2 took over on the switch day
    v1, v2 = PlaybookVersion.objects.order_by("number")
    switch = simulator.simulate(size="small", seed=1).switch_at
    assert (v1.activated_at, v1.superseded_at, v2.activated_at, v2.status) == (
        simulator.start_datetime(), switch, switch, "active")
    # and every stage change is stamped with the version in force at its time, by activation and by supersession
    in_force = playbook_versions_in_force()
    window = {v1.pk: (v1.activated_at, v1.superseded_at), v2.pk: (v2.activated_at, None)}
    rows = list(StageChange.objects.values_list("occurred_at", "playbook_version_id"))
    assert {version for _, version in rows} == {v1.pk, v2.pk}
    for occurred_at, version in rows:
        assert in_force.at(occurred_at).pk == version, occurred_at
        activated, superseded = window[version]
        # (the customers' years before the simulated one are judged by v1, the first agreement ever adopted)
        assert occurred_at >= activated or version == v1.pk, occurred_at
        assert superseded is None or occurred_at < superseded, occurred_at
    in_the_year = [at for at, _ in rows if at >= simulator.start_datetime()]
    assert len(in_the_year) > len(rows) / 2
    assert playbook_version_in_force(min(at for at, _ in rows)).pk == v1.pk
