"""The predictive score: features from plain contact rows, a scikit-learn model, and its model card (no ORM).

Features are the contact's own fields and imported attributes, its account's firmographics and how many
marketing touches of each kind it had before it qualified. The model may only learn what was known before the
outcome, so training leaves out:
- contacts created as customers (a customer list import, or a history that starts at customer): they never were
  leads to score;
- columns known to be written by sales after the handoff (X Education's `Tags` and `Lead Quality`, sales
  calls/emails/meetings), unless asked for;
- columns that detect_leaks finds present for one class only, or with a value seen in one class only (deal
  attributes that exist only for won deals): they record the outcome rather than predict it.
The model card lists every exclusion with its rule and numbers, and a held-out AUC above SUSPICIOUS_AUC is
flagged as suspicious (the service refuses to publish such a model unless told to).
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

from smarketing.lifecycle.enums import Stage
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
# Lead sources that mean "already a customer when first recorded" (the demo's customer list import).
CUSTOMER_LEAD_SOURCES = frozenset({"customer_import"})
# A column present for at least ONE_CLASS_PRESENT of one class and at most OTHER_CLASS_PRESENT of the other
# exists because of the outcome.
ONE_CLASS_PRESENT = 0.99
OTHER_CLASS_PRESENT = 0.01
# A category value whose rows all fall in one class, with at least PURE_MIN_SUPPORT rows and a chance below
# PURE_MAX_CHANCE of being that pure if the value told nothing (class rate ** support), maps to the outcome.
PURE_MIN_SUPPORT = 30
PURE_MAX_CHANCE = 1e-6
SUSPICIOUS_AUC = 0.99
BASE_FIELDS = ("lead_source", "country", "buying_role", "account__industry", "account__employees",
               "account__region", "account__segment")


class NotEnoughOutcomes(ValueError):
    """Too few rows or outcomes of one class to train and evaluate honestly."""


@dataclass(frozen=True)
class FeatureSpec:
    numeric: list[str]
    categorical: list[str]
    leaky: list[str]


@dataclass(frozen=True)
class Leak:
    """A column left out of training, the rule that caught it and the numbers behind it."""

    field: str
    rule: str
    numbers: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, **self.numbers}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_leaky(column: str) -> bool:
    if column.startswith("attr__"):
        return column[len("attr__"):] in LEAKY_ATTRIBUTES
    if column.startswith("touches__"):
        return column[len("touches__"):] in SALES_TOUCH_KINDS
    return False


def _present(s: pd.Series) -> pd.Series:
    """Whether each cell holds a value (a touch count must also be above zero: absent touches are counted 0)."""
    if s.name is not None and str(s.name).startswith("touches__"):
        return pd.to_numeric(s, errors="coerce").fillna(0) > 0
    return s.notna() & (s.astype(str) != "")


def detect_leaks(df: pd.DataFrame, labels: Sequence[int] | np.ndarray) -> list[Leak]:
    """Columns that exist because of the outcome: present for one class only, or with a value of one class only.

    Pure over a plain frame (one row per contact) and its 0/1 labels; columns in the order of the frame.
    """
    y = np.asarray(labels, dtype=int)
    pos, neg = y == 1, y == 0
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    if not n_pos or not n_neg:
        return []
    rate = {1: n_pos / len(y), 0: n_neg / len(y)}
    leaks: list[Leak] = []
    for col in df.columns:
        present = _present(df[col]).to_numpy()
        share_pos, share_neg = float(present[pos].mean()), float(present[neg].mean())
        if ((share_pos >= ONE_CLASS_PRESENT and share_neg <= OTHER_CLASS_PRESENT)
                or (share_neg >= ONE_CLASS_PRESENT and share_pos <= OTHER_CLASS_PRESENT)):
            leaks.append(Leak(col, "present for one class only", {
                "present_in_positives": round(share_pos, 4), "present_in_negatives": round(share_neg, 4),
                "positives": n_pos, "negatives": n_neg}))
            continue
        values = df[col][present]
        if values.empty or all(_is_number(v) for v in values):
            continue
        table = pd.crosstab(values.astype(str).to_numpy(), y[present])
        pure: list[tuple[int, str, int]] = []  # (support, value, class) of values no chance explains
        for value, counts in table.iterrows():
            support = int(counts.sum())
            classes = [c for c in (0, 1) if c in counts.index and counts[c] > 0]
            if support >= PURE_MIN_SUPPORT and len(classes) == 1 and rate[classes[0]] ** support < PURE_MAX_CHANCE:
                pure.append((support, str(value), classes[0]))
        if pure:
            support, value, cls = max(pure)
            leaks.append(Leak(col, "a value seen in one class only", {
                "value": value, "support": support, "class": "positive" if cls == 1 else "negative",
                "class_rate": round(rate[cls], 4), "chance": float(f"{rate[cls] ** support:.3g}"),
                "pure_values": len(pure)}))
    return leaks


def created_as_customer(row: Mapping[str, Any]) -> str | None:
    """Why a contact was never a lead to score (None if it was): a customer list import, or a history
    that starts at customer."""
    if row.get("lead_source") in CUSTOMER_LEAD_SOURCES:
        return f"lead source {row['lead_source']}"
    if row.get("first_stage") == Stage.CUSTOMER:
        return "first stage change is customer"
    return None


def suspicion(auc: float, top_features: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a held-out AUC is too good to be an honest lead score (None if it is not)."""
    if auc <= SUSPICIOUS_AUC:
        return None
    top = ", ".join(f"{f['feature']} (AUC drop {f['auc_drop']:+.3f})" for f in top_features[:3]) or "none"
    return (f"held-out AUC {auc:.3f} is above {SUSPICIOUS_AUC}: no lead score separates converters that well "
            f"from what is known before the outcome, so some feature most likely records the outcome itself "
            f"(top features: {top})")


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


def feature_spec(df: pd.DataFrame, *, include_leaky: bool, detected: Sequence[str] = ()) -> FeatureSpec:
    """Which columns are numeric, which categorical, which leak (known or detected); constant columns are dropped."""
    numeric: list[str] = []
    categorical: list[str] = []
    leaky: list[str] = []
    for col in sorted(df.columns):
        values = df[col].dropna()
        values = values[values.astype(str) != ""]
        if values.astype(str).nunique() < 2:
            continue
        if _is_leaky(col) or col in detected:
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


def _known_leaks(columns: Sequence[str]) -> list[Leak]:
    out = []
    for col in columns:
        if col.startswith("attr__") and col[len("attr__"):] in LEAKY_ATTRIBUTES:
            out.append(Leak(col, "written by sales once they know the outcome (known leaky column)", {}))
        elif col.startswith("touches__") and col[len("touches__"):] in SALES_TOUCH_KINDS:
            out.append(Leak(col, "sales touches happen after the handoff (known leaky column)", {}))
    return out


def _train(rows: Sequence[Mapping[str, Any]], labels: Sequence[int], *, include_leaky: bool, algorithm: str,
           label_name: str, first_seen: Sequence[datetime | None]) -> Trained:
    reasons = [created_as_customer(r) for r in rows]
    kept = [i for i, why in enumerate(reasons) if why is None]
    left_out: dict[str, int] = {}
    for why in reasons:
        if why is not None:
            left_out[why] = left_out.get(why, 0) + 1
    rows = [rows[i] for i in kept]
    y = np.asarray([labels[i] for i in kept], dtype=int)
    first_seen = [first_seen[i] for i in kept] if first_seen else []
    n_pos = int(y.sum())
    if len(y) < MIN_ROWS or n_pos < MIN_PER_CLASS or len(y) - n_pos < MIN_PER_CLASS:
        raise NotEnoughOutcomes(f"training needs at least {MIN_ROWS} contacts with {MIN_PER_CLASS} of each outcome; "
                                f"found {len(y)} contacts, {n_pos} {label_name} and {len(y) - n_pos} not"
                                + (f" (after leaving out {sum(left_out.values())} created as customers)"
                                   if left_out else ""))
    df = frame(rows)
    known = _known_leaks(list(df.columns))
    detected = [d for d in detect_leaks(df, y) if d.field not in {k.field for k in known}]
    spec = feature_spec(df, include_leaky=include_leaky, detected=[d.field for d in detected])
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
    qualified = [r for r in rows if r.get("qualified_at") is not None]
    card = {
        "algorithm": str(chosen),
        "label": label_name,
        "features": {"numeric": spec.numeric, "categorical": spec.categorical},
        "leaky_columns": spec.leaky,
        "include_leaky": include_leaky,
        # Every column left out (or, with include_leaky, let in) as a leak: the field, the rule, the numbers.
        "excluded_columns": [leak.as_dict() for leak in (*known, *detected) if leak.field in spec.leaky],
        "excluded_contacts": [{"field": "lead_source" if why.startswith("lead source") else "first_stage",
                               "rule": f"created as customer: {why}", "contacts": n}
                              for why, n in sorted(left_out.items())],
        "cutoff": {"rule": "touches after a contact's first MQL or decision (accept, reject, recycle, "
                           "opportunity, customer) are not counted",
                   "contacts_qualified": len(qualified),
                   "touches_excluded": int(sum(int(r.get("touches_after") or 0) for r in rows))},
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
        "suspicious": suspicion(auc, importance),
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
