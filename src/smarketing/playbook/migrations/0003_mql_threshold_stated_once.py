"""Stored playbook versions state the MQL threshold once, in `scoring.mql_threshold`.

Before, the MQL stage also carried `score.total >= N` among its entry criteria, and qualification tested both, so
the bar that actually qualified leads was the higher of the two. Each version is rewritten to what it qualified
with: `score.total >= N` (or `> N`) criteria of the MQL stage are removed and `scoring.mql_threshold` becomes
max(threshold, N) (a float, as validated content stores it); other `score.total` tests on the MQL stage (upper
bounds) are removed too, since the threshold is the stage's only score test. Every other term is kept.

Sign-offs stay valid: a signature is a row holding the sha256 of the content it signed
(`playbook.services.content_sha`: sha256 of `json.dumps(content, sort_keys=True, default=str)`). For a rewritten
version the content_sha is recomputed the same way, and each signature that was current (its sha equal to the
version's old sha) is moved to the new sha; signatures that were already stale (on older draft content) stay as
they were, still stale. The rewrite only restates what was signed, so no signature is voided.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import migrations

THRESHOLD_FIELD = "score.total"


def _sha(content: dict[str, Any]) -> str:
    # The same function as playbook.services.content_sha (a migration must not import the app's live code).
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def threshold_stated_once(content: dict[str, Any]) -> dict[str, Any] | None:
    """The content with the MQL stage's score.total criteria folded into scoring.mql_threshold, or None if unchanged."""
    scoring, stages = content.get("scoring"), content.get("stages")
    if not isinstance(scoring, dict) or not isinstance(stages, list):
        return None
    threshold = _number(scoring.get("mql_threshold"))
    if threshold is None:
        return None
    changed = False
    new_stages = []
    for stage in stages:
        criteria = stage.get("entry_criteria") if isinstance(stage, dict) else None
        if not (isinstance(stage, dict) and stage.get("key") == "mql" and isinstance(criteria, list)):
            new_stages.append(stage)
            continue
        kept = []
        for c in criteria:
            if not (isinstance(c, dict) and c.get("field") == THRESHOLD_FIELD):
                kept.append(c)
                continue
            changed = True
            value = _number(c.get("value"))
            if c.get("op") in (">=", ">") and value is not None:
                threshold = max(threshold, value)
        new_stages.append({**stage, "entry_criteria": kept})
    if not changed:
        return None
    return {**content, "stages": new_stages, "scoring": {**scoring, "mql_threshold": threshold}}


def forwards(apps: Any, schema_editor: Any) -> None:
    PlaybookVersion = apps.get_model("playbook", "PlaybookVersion")
    PlaybookSignoff = apps.get_model("playbook", "PlaybookSignoff")
    for version in PlaybookVersion.objects.order_by("number"):
        content = threshold_stated_once(version.content)
        if content is None:
            continue
        old_sha, new_sha = version.content_sha, _sha(content)
        PlaybookSignoff.objects.filter(version=version, content_sha=old_sha).update(content_sha=new_sha)
        version.content = content
        version.content_sha = new_sha
        version.save(update_fields=["content", "content_sha"])


class Migration(migrations.Migration):

    dependencies = [
        ("playbook", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
