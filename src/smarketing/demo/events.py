"""Shared pieces of the funnel simulation: working hours, stage events collected as columns, touch frames."""

from __future__ import annotations

import numpy as np
import pandas as pd

from smarketing.demo import catalog, journeys

END_DAY = journeys.END_DAY


def business_time(t: np.ndarray) -> np.ndarray:
    """Move moments onto working hours (09:00–17:00, Monday–Friday), keeping their order within a day."""
    t = np.asarray(t, dtype=float)
    day = np.floor(t)
    weekday = (catalog.window_start().weekday() + day) % 7  # the window moves with the seeded year's last day
    shift = np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    return day + shift + (9 + 8 * (t - day)) / 24


class StageEvents:
    """Stage changes being collected as columns."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("contact", "account", "to_stage", "t", "actor",
                                                                   "actor_kind", "reason", "details", "episode")}

    def add(self, *, contact: np.ndarray | None = None, account: np.ndarray | None = None, to_stage: str,
            t: np.ndarray, actor: np.ndarray | int = -1, actor_kind: str | np.ndarray, reason: np.ndarray | str = "",
            details: np.ndarray | list[str] | None = None, episode: np.ndarray | None = None) -> None:
        """Append stage changes; `episode` links an MQL and the handoff decision on it (-1 for other changes)."""
        n = np.asarray(t).size
        self.cols["contact"].append(np.full(n, -1) if contact is None else np.asarray(contact))
        self.cols["account"].append(np.full(n, -1) if account is None else np.asarray(account))
        self.cols["to_stage"].append(np.full(n, to_stage, dtype=object))
        self.cols["t"].append(np.asarray(t, dtype=float))
        self.cols["actor"].append(np.broadcast_to(np.asarray(actor), (n,)).astype(np.int64))
        self.cols["actor_kind"].append(np.broadcast_to(np.asarray(actor_kind, dtype=object), (n,)))
        self.cols["reason"].append(np.broadcast_to(np.asarray(reason, dtype=object), (n,)))
        self.cols["details"].append(np.full(n, "{}", dtype=object) if details is None
                                    else np.asarray(details, dtype=object))
        self.cols["episode"].append(np.full(n, -1, dtype=np.int64) if episode is None
                                    else np.asarray(episode, dtype=np.int64))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: np.concatenate(v) if v else np.zeros(0) for k, v in self.cols.items()})


def touch_frame(contact: np.ndarray, campaign: int, channel: str, kind: str | np.ndarray,
                t: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"contact_local": np.asarray(contact, dtype=np.int64),
                         "campaign": np.full(np.asarray(t).size, campaign, dtype=np.int64),
                         "channel": channel, "kind": kind, "t": np.asarray(t, dtype=float)})


def sales_touches(contact: np.ndarray, kind: str, t: np.ndarray, actor: np.ndarray | int) -> pd.DataFrame:
    """Sales calls, emails and meetings; `actor` is the seller who made each (the touchpoint names its rep)."""
    frame = touch_frame(contact, -1, "sales", kind, t)
    frame["actor"] = np.broadcast_to(np.asarray(actor, dtype=np.int64), (len(frame),))
    return frame
