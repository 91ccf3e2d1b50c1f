"""The predictive score: features from plain contact rows, a scikit-learn model, and its model card (no ORM).

Features are the contact's own fields and imported attributes, its account's firmographics and how many
marketing touches of each kind it had. Columns written by sales after the handoff leak the outcome (X
Education's `Tags` and `Lead Quality`, and sales calls/emails/meetings) and are left out unless asked for.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from smarketing.scoring.enums import Algorithm

SEED = 42
TEST_SIZE = 0.25
MIN_ROWS = 40
MIN_PER_CLASS = 10
MAX_CATEGORIES = 60
LEAKY_ATTRIBUTES = frozenset({"tags", "lead_quality"})
SALES_TOUCH_KINDS = frozenset({"sales_call", "sales_email", "meeting"})
# Identifiers and bookkeeping carry no signal about the person (and a sequence number tracks time, not intent).
EXCLUDED_ATTRIBUTES = frozenset({"lead_number", "prospect_id", "converted"})
BASE_FIELDS = ("lead_source", "country", "buying_role", "account__industry", "account__employees",
               "account__region", "account__segment")


class NotEnoughOutcomes(ValueError):
    """Too few rows or outcomes of one class to train and evaluate honestly."""


@dataclass(frozen=True)
class FeatureSpec:
    numeric: list[str]
    categorical: list[str]
    leaky: list[str]


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_leaky(column: str) -> bool:
    if column.startswith("attr__"):
        return column[len("attr__"):] in LEAKY_ATTRIBUTES
    if column.startswith("touches__"):
        return column[len("touches__"):] in SALES_TOUCH_KINDS
    return False


def frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per contact with every candidate feature column (attr__*, touches__*, base fields)."""
    records = []
    for r in rows:
        rec: dict[str, Any] = {f: r.get(f) for f in BASE_FIELDS}
        for k, v in (r.get("attributes") or {}).items():
            if k not in EXCLUDED_ATTRIBUTES and not k.endswith("_id") and not isinstance(v, dict | list):
                rec[f"attr__{k}"] = v
        for kind, n in (r.get("touch_counts") or {}).items():
            rec[f"touches__{kind}"] = n
        records.append(rec)
    df = pd.DataFrame.from_records(records)
    touch_cols = [c for c in df.columns if c.startswith("touches__")]
    df[touch_cols] = df[touch_cols].fillna(0)
    return df


def feature_spec(df: pd.DataFrame, *, include_leaky: bool) -> FeatureSpec:
    """Which columns are numeric, which categorical, which leak; constant columns are dropped."""
    numeric: list[str] = []
    categorical: list[str] = []
    leaky: list[str] = []
    for col in sorted(df.columns):
        values = df[col].dropna()
        values = values[values.astype(str) != ""]
        if values.astype(str).nunique() < 2:
            continue
        if _is_leaky(col):
            leaky.append(col)
            if not include_leaky:
                continue
        (numeric if all(_is_number(v) for v in values) else categorical).append(col)
    return FeatureSpec(numeric=numeric, categorical=categorical, leaky=leaky)


def design(df: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The model's input: numeric columns as floats, categorical as strings with '(missing)'."""
    out = pd.DataFrame(index=df.index)
    for col in spec.numeric:
        s = df[col] if col in df else pd.Series(np.nan, index=df.index)
        out[col] = pd.to_numeric(s, errors="coerce").astype(float)
    for col in spec.categorical:
        c = df[col] if col in df else pd.Series([None] * len(df), index=df.index)
        out[col] = c.map(lambda v: "(missing)" if v is None or v == "" or (isinstance(v, float) and np.isnan(v))
                         else str(v))
    return out


def _pipeline(algorithm: str, spec: FeatureSpec) -> Pipeline:
    if algorithm == Algorithm.LOGISTIC:
        numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                                StandardScaler())
        onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10)
        pre = ColumnTransformer([("num", numeric, spec.numeric), ("cat", onehot, spec.categorical)])
        return Pipeline([("pre", pre), ("model", LogisticRegression(C=0.5, max_iter=3000))])
    # Trees take categories natively (one column each) and missing numbers as they are: far fewer columns
    # than one-hot, so training stays quick.
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1,
                             min_frequency=10, max_categories=MAX_CATEGORIES)
    pre = ColumnTransformer([("num", "passthrough", spec.numeric), ("cat", ordinal, spec.categorical)])
    n_num = len(spec.numeric)
    model = HistGradientBoostingClassifier(
        learning_rate=0.08, max_iter=300, l2_regularization=1.0, early_stopping=True, validation_fraction=0.15,
        n_iter_no_change=15, random_state=SEED,
        categorical_features=list(range(n_num, n_num + len(spec.categorical))) or None)
    return Pipeline([("pre", pre), ("model", model)])


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted against observed rate in equal-width probability bins (empty bins left out)."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    table = []
    for b in range(bins):
        m = which == b
        if m.any():
            table.append({"bin": f"{edges[b]:.1f}–{edges[b + 1]:.1f}", "n": int(m.sum()),
                          "mean_predicted": round(float(p[m].mean()), 4), "observed_rate": round(float(y[m].mean()), 4)})
    return table


@dataclass(frozen=True)
class Trained:
    algorithm: str
    artefact: bytes
    card: dict[str, Any]
    auc: float
    brier: float
    base_rate: float
    n_train: int
    n_test: int


def train(rows: Sequence[Mapping[str, Any]], labels: Sequence[int], *, include_leaky: bool = False,
          algorithm: str = Algorithm.AUTO, label_name: str = "converted",
          first_seen: Sequence[datetime | None] = ()) -> Trained:
    """Fit on a stratified split (fixed seed), evaluate on the held-out quarter, and write the model card."""
    # One thread: on a busy machine OpenMP's spinning threads make gradient boosting ten times slower.
    with threadpool_limits(1):
        return _train(rows, labels, include_leaky=include_leaky, algorithm=algorithm, label_name=label_name,
                      first_seen=first_seen)


def _train(rows: Sequence[Mapping[str, Any]], labels: Sequence[int], *, include_leaky: bool, algorithm: str,
           label_name: str, first_seen: Sequence[datetime | None]) -> Trained:
    y = np.asarray(labels, dtype=int)
    n_pos = int(y.sum())
    if len(y) < MIN_ROWS or n_pos < MIN_PER_CLASS or len(y) - n_pos < MIN_PER_CLASS:
        raise NotEnoughOutcomes(f"training needs at least {MIN_ROWS} contacts with {MIN_PER_CLASS} of each outcome; "
                                f"found {len(y)} contacts, {n_pos} {label_name} and {len(y) - n_pos} not")
    df = frame(rows)
    spec = feature_spec(df, include_leaky=include_leaky)
    if not spec.numeric and not spec.categorical:
        raise NotEnoughOutcomes("no feature varies across contacts; nothing to learn from")
    X = design(df, spec)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=TEST_SIZE, stratify=y, random_state=SEED)
    cv: dict[str, float] = {}
    if algorithm == Algorithm.AUTO:
        folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
        for algo in (Algorithm.LOGISTIC, Algorithm.GRADIENT_BOOSTING):
            cv[algo] = float(cross_val_score(_pipeline(algo, spec), X_tr, y_tr, cv=folds, scoring="roc_auc").mean())
        chosen = max(cv, key=lambda a: cv[a])
    else:
        chosen = algorithm
    pipe = _pipeline(chosen, spec)
    pipe.fit(X_tr, y_tr)
    p = pipe.predict_proba(X_te)[:, 1]
    auc, brier = float(roc_auc_score(y_te, p)), float(brier_score_loss(y_te, p))
    base_rate = float(y.mean())
    importance = _importance(pipe, chosen, X_te, y_te)
    seen = [d for d in first_seen if d is not None]
    card = {
        "algorithm": str(chosen),
        "label": label_name,
        "features": {"numeric": spec.numeric, "categorical": spec.categorical},
        "leaky_columns": spec.leaky,
        "include_leaky": include_leaky,
        "training_window": {"first_seen_from": min(seen).isoformat() if seen else None,
                            "first_seen_to": max(seen).isoformat() if seen else None},
        "n": int(len(y)), "n_train": int(len(y_tr)), "n_test": int(len(y_te)), "positives": n_pos,
        "base_rate": round(base_rate, 4),
        "split": {"method": "stratified hold-out", "test_size": TEST_SIZE, "seed": SEED},
        "auc": round(auc, 4),
        "brier": round(brier, 4),
        # The Brier score of always predicting the base rate: a useful model must beat it.
        "brier_base_rate": round(float(np.mean((y_te - y_tr.mean()) ** 2)), 4),
        "cv_auc": {str(k): round(v, 4) for k, v in cv.items()},
        "calibration": calibration_table(y_te, p),
        "top_features": importance[:15],
    }
    ids = [r.get("id") for r in rows]
    holdout_ids = [ids[i] for i in X_te.index]
    artefact = pickle.dumps({"pipeline": pipe, "numeric": spec.numeric, "categorical": spec.categorical,
                             "holdout_ids": holdout_ids})
    return Trained(algorithm=chosen, artefact=artefact, card=card, auc=auc, brier=brier, base_rate=base_rate,
                   n_train=len(y_tr), n_test=len(y_te))


def _importance(pipe: Pipeline, algorithm: str, X_te: pd.DataFrame, y_te: np.ndarray) -> list[dict[str, Any]]:
    """Held-out AUC lost when each input column is shuffled (permutation importance, on up to 1,000 rows)."""
    sample = min(1.0, 1000 / max(len(X_te), 1))
    if algorithm == Algorithm.GRADIENT_BOOSTING:
        # The ordinal encoding keeps one column per input, so shuffling encoded columns is shuffling inputs;
        # encoding once spares a pandas transform per shuffle.
        encoded = pipe.named_steps["pre"].transform(X_te)
        imp = permutation_importance(pipe.named_steps["model"], encoded, y_te, scoring="roc_auc", n_repeats=2,
                                     random_state=SEED, max_samples=sample)
    else:
        imp = permutation_importance(pipe, X_te, y_te, scoring="roc_auc", n_repeats=2, random_state=SEED,
                                     max_samples=sample)
    return sorted(({"feature": c, "auc_drop": round(float(m), 4)} for c, m in
                   zip(X_te.columns, imp.importances_mean, strict=True)), key=lambda d: -d["auc_drop"])


def load(artefact: bytes) -> dict[str, Any]:
    """The fitted pipeline (artefacts are only ever read back from our own database)."""
    obj: dict[str, Any] = pickle.loads(artefact)  # noqa: S301
    return obj


def predict(model: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Probabilities of the outcome for plain contact rows."""
    if not rows:
        return np.zeros(0)
    spec = FeatureSpec(numeric=list(model["numeric"]), categorical=list(model["categorical"]), leaky=[])
    X = design(frame(rows), spec)
    return np.asarray(model["pipeline"].predict_proba(X)[:, 1], dtype=float)
