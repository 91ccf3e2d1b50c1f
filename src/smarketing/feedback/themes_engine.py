"""Theme extraction as pure functions over plain texts and vectors (no ORM, no downloads).

cluster_*()     group texts: TF-IDF + NMF by default, or sentence embeddings + k-means; k = sqrt(n/2)
                unless given. Context sentences without content words are left out first.
key_phrases()   names each group by phrases its items say (theme_names: surface words, not stems).
nearest()       places new texts on existing themes' centroids (incremental assignment).
match()         maps this run's clusters onto the previous run's themes by shared items, so theme identity
                (and every human edit attached to it) survives re-runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

from smarketing.feedback import theme_names
from smarketing.feedback.text import clean, sentences, stem, words


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())

MAX_CHARS = 5000  # texts are stored whole; only the first part is used to group them
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"
# Words every piece of sales feedback uses; they say nothing about the theme.
DOMAIN_STOP = _wordset(
    "customer customers client clients said says mentioned asked told call calls meeting week weeks team today "
    "they them their we us our you your just really also still want wants need needs like get got "
    "heard noted raised shared logged came discovery qbr demo follow feedback email morning passing end "
    "conversation renewal steering committee onsite visit pilot again "
    # job titles say who raised it (the persona breakdown shows that), not what it is about
    "manager head lead vp cfo coo ceo cto cio director chief officer"
)
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | DOMAIN_STOP)
_STOP_SET = frozenset(STOP_WORDS)
Embedder = Callable[[list[str]], np.ndarray]


@dataclass
class Clustering:
    """Result of one run: a label per text (-1 = not themed), similarity to its centroid, and per-cluster data."""

    labels: list[int]
    scores: list[float]
    centroids: list[Any]  # {term: weight} (tfidf) or list[float] (embedding), one per cluster
    phrases: list[list[str]]
    notes: list[str]  # why a text was not themed ("" when it was)
    k: int
    vocabulary: dict[str, int] = field(default_factory=dict)
    idf: list[float] = field(default_factory=list)
    silhouette: float | None = None
    vectors: Any = None  # one row per text (zeros when not themed): sparse TF-IDF or dense embeddings
    texts: list[str] = field(default_factory=list)  # the prepared texts the run grouped


def focus(text: str) -> str:
    """Drop context sentences ("Heard on the discovery call.") that carry fewer than two content words."""
    parts = sentences(text)
    keep = [p for p in parts if sum(1 for w in words(p) if w not in _STOP_SET and len(w) > 1) >= 2]
    return " ".join(keep) if keep else text


def prepare(texts: Sequence[str]) -> list[str]:
    return [focus(clean(t)[:MAX_CHARS]) for t in texts]


def default_k(n: int) -> int:
    """The rule of thumb k = sqrt(n/2), bounded to 2..30.

    Why not silhouette: on short texts it rises with k almost monotonically, so "best silhouette" means
    "as many themes as allowed", which fragments the inbox; the rule keeps themes few enough to act on.
    """
    return max(2, min(30, round((n / 2) ** 0.5)))


def analyse(text: str) -> list[str]:
    """Stemmed content words and their bigrams (stop words and one-letter words dropped)."""
    tokens = [stem(w) for w in words(text) if w not in _STOP_SET and len(w) > 1]
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def _vectorizer(n: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer=analyse, min_df=2 if n >= 20 else 1, max_df=0.5 if n >= 20 else 1.0,
                           sublinear_tf=True)


def _silhouette(x: Any, labels: np.ndarray, seed: int) -> float:
    if len(set(labels.tolist())) < 2:
        return -1.0
    size = min(2000, x.shape[0])
    return float(silhouette_score(x, labels, metric="cosine", sample_size=size, random_state=seed))


def _tfidf_centroid(rows: Any, terms: np.ndarray, top: int = 300) -> dict[str, float]:
    mean = np.asarray(rows.mean(axis=0)).ravel()
    idx = np.argsort(mean)[::-1][:top]
    idx = idx[mean[idx] > 0]
    norm = float(np.linalg.norm(mean[idx])) or 1.0
    return {str(terms[i]): round(float(mean[i]) / norm, 6) for i in idx}


def key_phrases(texts: Sequence[str], labels: Sequence[int], k: int, *, top: int = 5,
                scores: Sequence[float] | None = None) -> list[list[str]]:
    """Each cluster's phrases as its items say them (see theme_names); central items (by score) count more."""
    weights = theme_names.centrality(scores) if scores is not None else None
    found = theme_names.theme_phrases(texts, labels, k, stop=_STOP_SET, weights=weights, top=top)
    return [[p.text for p in phrases] for phrases in found]


def name_from(phrases: Sequence[str]) -> str:
    return theme_names.theme_name(phrases)


def cluster_tfidf(texts: Sequence[str], *, k: int | None = None, seed: int = 0) -> Clustering:
    """TF-IDF (words and bigrams) factorised by NMF; each text joins its strongest component."""
    docs = prepare(texts)
    n = len(docs)
    notes = ["" if d else "empty" for d in docs]
    if n == 0:
        return Clustering([], [], [], [], [], 0)
    vec = _vectorizer(n)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # no usable terms in any text
        return Clustering([-1] * n, [0.0] * n, [], [], ["no_terms"] * n, 0)
    x = normalize(x)
    usable = np.asarray(x.getnnz(axis=1) > 0)
    for i in np.flatnonzero(~usable):
        notes[i] = notes[i] or "no_terms"
    xu = x[usable]
    m = xu.shape[0]
    k = max(1, min(k or default_k(m), m))
    if k < 2:
        labels_u = np.zeros(m, dtype=int)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # Why: coordinate descent is the better fit on small sets; past ~2,000 items multiplicative updates
            # are ~7x faster for a few points of ARI (see benchmarks/themes.py).
            solver = "cd" if m <= 2000 else "mu"
            w = NMF(n_components=k, init="nndsvda", solver=solver, random_state=seed,
                    max_iter=500 if solver == "cd" else 300).fit_transform(xu)
        labels_u = np.asarray(w.argmax(axis=1)).ravel()
    labels_u, k = _compact(labels_u)
    sil = _silhouette(xu, labels_u, seed) if k > 1 else None
    terms = vec.get_feature_names_out()
    centroids = [_tfidf_centroid(xu[labels_u == c], terms) for c in range(k)]
    scores = _tfidf_scores(xu, labels_u, centroids, vec.vocabulary_)
    labels = [-1] * n
    full_scores = [0.0] * n
    for j, i in enumerate(np.flatnonzero(usable)):
        labels[i] = int(labels_u[j])
        full_scores[i] = scores[j]
    phrases = key_phrases(docs, labels, k, scores=full_scores)
    return Clustering(labels=labels, scores=full_scores, centroids=centroids, phrases=phrases, notes=notes, k=k,
                      vocabulary={str(t): int(i) for t, i in vec.vocabulary_.items()},
                      idf=[round(float(v), 6) for v in vec.idf_], silhouette=None if sil is None else round(sil, 4),
                      vectors=x, texts=docs)


def _compact(labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Renumber labels 0..k-1 in order of first appearance (NMF may leave components empty)."""
    mapping: dict[int, int] = {}
    out = np.empty_like(labels)
    for i, lab in enumerate(labels.tolist()):
        out[i] = mapping.setdefault(lab, len(mapping))
    return out, len(mapping)


def _dense_centroids(centroids: Sequence[dict[str, float]], vocabulary: dict[str, int]) -> np.ndarray:
    mat = np.zeros((len(centroids), len(vocabulary)), dtype=np.float64)
    for c, cent in enumerate(centroids):
        for term, w in cent.items():
            j = vocabulary.get(term)
            if j is not None:
                mat[c, j] = w
    return normalize(mat)


def _tfidf_scores(x: Any, labels: np.ndarray, centroids: Sequence[dict[str, float]],
                  vocabulary: dict[str, int]) -> list[float]:
    if not centroids:
        return [0.0] * x.shape[0]
    sims = x @ _dense_centroids(centroids, vocabulary).T
    return [round(float(sims[i, labels[i]]), 4) for i in range(x.shape[0])]


def cluster_embedding(texts: Sequence[str], *, embed: Embedder, k: int | None = None, seed: int = 0) -> Clustering:
    """Sentence embeddings grouped by k-means on the unit sphere; names still come from the words."""
    docs = prepare(texts)
    n = len(docs)
    notes = ["" if d else "empty" for d in docs]
    usable = np.array([bool(d) and any(ch.isalpha() for ch in d) for d in docs], dtype=bool)
    for i in np.flatnonzero(~usable):
        notes[i] = notes[i] or "no_terms"
    rows = np.flatnonzero(usable)
    if len(rows) == 0:
        return Clustering([-1] * n, [0.0] * n, [], [], notes, 0)
    e = normalize(np.asarray(embed([docs[i] for i in rows]), dtype=np.float64))
    m = e.shape[0]
    k = max(1, min(k or default_k(m), m))
    labels_u = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(e) if k > 1 else np.zeros(m, dtype=int)
    labels_u, k = _compact(np.asarray(labels_u))
    sil = _silhouette(e, labels_u, seed) if k > 1 else None
    centroids_mat = normalize(np.vstack([e[labels_u == c].mean(axis=0) for c in range(k)]))
    labels = [-1] * n
    scores = [0.0] * n
    for j, i in enumerate(rows):
        labels[i] = int(labels_u[j])
        scores[i] = round(float(e[j] @ centroids_mat[labels_u[j]]), 4)
    phrases = key_phrases(docs, labels, k, scores=scores)
    full = np.zeros((n, e.shape[1]))
    full[rows] = e
    return Clustering(labels=labels, scores=scores, centroids=[_dense_list(row) for row in centroids_mat],
                      phrases=phrases, notes=notes, k=k, silhouette=None if sil is None else round(sil, 4),
                      vectors=full, texts=docs)


def _dense_list(row: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in row]


def group_centroids(vectors: Any, groups: Sequence[Sequence[int]], *, vocabulary: dict[str, int] | None) -> list[Any]:
    """Centroids of arbitrary row groups, in the stored form of the backend (dict for TF-IDF, list for dense)."""
    out: list[Any] = []
    if vocabulary:
        terms = np.empty(len(vocabulary), dtype=object)
        for term, j in vocabulary.items():
            terms[j] = term
        for rows in groups:
            out.append(_tfidf_centroid(vectors[list(rows)], terms) if rows else {})
    else:
        for rows in groups:
            if not rows:
                out.append([])
                continue
            mean = np.asarray(vectors[list(rows)]).mean(axis=0)
            norm = float(np.linalg.norm(mean)) or 1.0
            out.append(_dense_list(mean / norm))
    return out


def similarity(vectors: Any, centroid: Any, *, vocabulary: dict[str, int] | None) -> np.ndarray:
    """Cosine of each row with one stored centroid."""
    mat = centroid_matrix([centroid], vocabulary=vocabulary)
    return np.asarray(vectors @ mat.T).ravel()


def merge_centroids(a: Any, size_a: int, b: Any, size_b: int) -> Any:
    """Size-weighted mean of two stored centroids of the same backend (used when a person merges themes)."""
    total = max(1, size_a + size_b)
    if isinstance(a, dict) or isinstance(b, dict):
        a, b = a or {}, b or {}
        keys = set(a) | set(b)
        mixed = {t: (a.get(t, 0.0) * size_a + b.get(t, 0.0) * size_b) / total for t in keys}
        norm = float(np.sqrt(sum(v * v for v in mixed.values()))) or 1.0
        top = sorted(mixed.items(), key=lambda kv: -kv[1])[:300]
        return {t: round(v / norm, 6) for t, v in top}
    if not a or not b:
        return a or b
    mean = (np.asarray(a) * size_a + np.asarray(b) * size_b) / total
    return _dense_list(mean / (float(np.linalg.norm(mean)) or 1.0))


# --- incremental assignment -------------------------------------------------------------------------------------

def tfidf_transform(texts: Sequence[str], *, vocabulary: dict[str, int], idf: Sequence[float]) -> Any:
    """Vectorise new texts in a stored run's TF-IDF space (same analyser, same weights), L2-normalised."""
    counter = CountVectorizer(analyzer=analyse, vocabulary=vocabulary)
    counts = counter.transform(prepare(texts)).astype(np.float64)
    counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as in the fit
    return normalize(counts @ sparse.diags(np.asarray(idf, dtype=np.float64)))


def nearest(vectors: Any, centroids: np.ndarray, *, threshold: float) -> list[tuple[int, float]]:
    """For each vector the index of the most similar centroid and the similarity; index -1 below threshold."""
    if centroids.shape[0] == 0 or vectors.shape[0] == 0:
        return [(-1, 0.0)] * vectors.shape[0]
    sims = np.asarray(vectors @ centroids.T)
    best = sims.argmax(axis=1)
    out = []
    for i, j in enumerate(best.tolist()):
        s = float(sims[i, j])
        out.append((int(j), round(s, 4)) if s >= threshold else (-1, round(s, 4)))
    return out


def centroid_matrix(centroids: Sequence[Any], *, vocabulary: dict[str, int] | None = None) -> np.ndarray:
    """Stack stored centroids into a row-normalised matrix (TF-IDF dicts need the run's vocabulary)."""
    if not centroids:
        return np.zeros((0, len(vocabulary or {}) or 1))
    if isinstance(centroids[0], dict):
        return _dense_centroids(centroids, vocabulary or {})
    return normalize(np.asarray(centroids, dtype=np.float64))


# --- identity across runs ---------------------------------------------------------------------------------------

def match(new_clusters: Sequence[set[int]], old_themes: dict[int, set[int]], *,
          min_overlap: float = 0.3) -> dict[int, int]:
    """Map cluster index -> old theme id, one-to-one, maximising shared items (Hungarian on overlap).

    Overlap is |shared| / |smaller set|; pairs below min_overlap stay unmatched, so a cluster that is
    genuinely new becomes a new theme instead of hijacking an old name.
    """
    old_ids = list(old_themes)
    if not new_clusters or not old_ids:
        return {}
    score = np.zeros((len(new_clusters), len(old_ids)))
    for c, members in enumerate(new_clusters):
        for t, tid in enumerate(old_ids):
            old = old_themes[tid]
            if members and old:
                score[c, t] = len(members & old) / min(len(members), len(old))
    rows, cols = linear_sum_assignment(-score)
    return {int(r): old_ids[c] for r, c in zip(rows, cols, strict=True) if score[r, c] >= min_overlap}


def best_overlap(members: set[int], candidates: dict[int, set[int]]) -> tuple[int | None, float]:
    """The candidate sharing the largest share of `members`, and that share."""
    best: tuple[int | None, float] = (None, 0.0)
    for tid, items in candidates.items():
        if members and items:
            share = len(members & items) / len(members)
            if share > best[1]:
                best = (tid, share)
    return best
