"""Reads of the demo company's seeding record."""

from __future__ import annotations

from smarketing.core.errors import NotFound
from smarketing.crm.models import Contact
from smarketing.demo.models import DemoSeed
from smarketing.demo.truth import GroundTruth


def demo_seed_latest() -> DemoSeed | None:
    """The most recent seeding of the demo company, if any."""
    return DemoSeed.objects.order_by("-created_at", "-id").first()


def demo_truth_get() -> GroundTruth:
    """The planted ground truth of the demo company in this database."""
    run = demo_seed_latest()
    if run is None:
        raise NotFound("this database has no demo company: run `smarketing seed`", record="demo")
    return GroundTruth.from_json(run.truth)


def database_is_empty() -> bool:
    """Whether the CRM holds no contacts yet (what `demo` and `seed` check before seeding)."""
    return not Contact.objects.exists()
