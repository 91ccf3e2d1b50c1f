"""Analytics choices that the query specs name (light: the specs load at start-up, the kernels when a query runs)."""

from __future__ import annotations

from enum import StrEnum


class AttributionModel(StrEnum):
    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"
    LINEAR = "linear"
    TIME_DECAY = "time_decay"
    U_SHAPED = "u_shaped"
    W_SHAPED = "w_shaped"
    FULL_PATH = "full_path"
    CUSTOM = "custom"
    MARKOV = "markov"
    SHAPLEY = "shapley"
