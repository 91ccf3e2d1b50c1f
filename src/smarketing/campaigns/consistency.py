"""Message consistency as pure functions: how closely a rep's outreach carries a campaign brief.

score = 0.6 x semantic closeness to the core message + 0.4 x share of proof points covered.
Every outreach sentence is compared with the brief's reference sentences (core message, proof points, talk
track); the ones that match and the ones that drift are returned so a manager can see why.

Similarity is TF-IDF cosine (words with a light stemmer, plus character n-grams for spelling variants) by
default, or sentence embeddings when a function is passed in. Calibration differs per backend: TF-IDF cosines
of paraphrases are low, embedding cosines of unrelated business text are already ~0.2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smarketing.feedback.text import clean, sentences, stem, words

if TYPE_CHECKING:
    import numpy as np

SimilarityFn = Callable[[Sequence[str], Sequence[str]], "np.ndarray"]  # NumPy loads when text is compared


@dataclass(frozen=True)
class Calibration:
    match: float  # a sentence at or above this carries a reference sentence
    full: float  # similarity counted as a perfect semantic score


TFIDF = Calibration(match=0.18, full=0.45)
EMBEDDING = Calibration(match=0.5, full=0.8)
SEMANTIC_WEIGHT = 0.6
_GREETING = re.compile(r"^(hi|hello|hey|dear|thanks|thank you|best|regards|cheers|kind regards|sincerely)\b", re.I)


@dataclass(frozen=True)
class BriefText:
    core_message: str
    proof_points: list[str] = field(default_factory=list)
    talk_track: str = ""


@dataclass(frozen=True)
class SentenceVerdict:
    text: str
    similarity: float
    status: str  # "match" | "drift" | "neutral" (greetings, sign-offs, very short lines)
    closest: str  # the brief sentence it is closest to


@dataclass(frozen=True)
class OutreachScore:
    score: float
    semantic: float
    coverage: float
    covered: list[str]
    missing: list[str]
    sentences: list[SentenceVerdict]

    @property
    def matching(self) -> list[SentenceVerdict]:
        return [s for s in self.sentences if s.status == "match"]

    @property
    def drifting(self) -> list[SentenceVerdict]:
        return [s for s in self.sentences if s.status == "drift"]


def _analyse(text: str) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # scikit-learn loads when text is compared

    tokens = [stem(w) for w in words(text) if w not in ENGLISH_STOP_WORDS and len(w) > 1]
    return tokens + [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


def tfidf_similarity(left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    """Cosine matrix (len(left) x len(right)) averaging stemmed-word and character n-gram TF-IDF."""
    import numpy as np
    if not left or not right:
        return np.zeros((len(left), len(right)))
    from sklearn.feature_extraction.text import TfidfVectorizer  # scikit-learn loads when text is compared
    from sklearn.preprocessing import normalize

    corpus = list(left) + list(right)
    out = np.zeros((len(left), len(right)))
    for vec in (TfidfVectorizer(analyzer=_analyse, sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True)):
        try:
            x = normalize(vec.fit_transform(corpus))
        except ValueError:  # nothing to compare (no terms at all)
            continue
        out += np.asarray((x[: len(left)] @ x[len(left):].T).todense())
    return out / 2


def embedding_similarity_fn(encode: Callable[[list[str]], np.ndarray]) -> SimilarityFn:
    def sim(left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not left or not right:
            return np.zeros((len(left), len(right)))
        from sklearn.preprocessing import normalize  # scikit-learn loads when text is compared

        a = normalize(np.asarray(encode(list(left)), dtype=np.float64))
        b = normalize(np.asarray(encode(list(right)), dtype=np.float64))
        return a @ b.T

    return sim


def _is_neutral(sentence: str) -> bool:
    """Greetings and sign-offs ("Hi Anna,", "Best, Tom") and fragments say nothing about the message."""
    n = len(words(sentence))
    return n < 4 or (bool(_GREETING.match(sentence)) and n <= 5)


def score_outreach(brief: BriefText, texts: Sequence[str], *, similarity: SimilarityFn | None = None,
                   calibration: Calibration | None = None) -> list[OutreachScore]:
    """Score each outreach text against the brief (see module docstring); an empty text scores 0."""
    import numpy as np

    sim_fn = similarity or tfidf_similarity
    cal = calibration or (TFIDF if similarity is None else EMBEDDING)
    core = sentences(clean(brief.core_message)) or [clean(brief.core_message)]
    proofs = [clean(p) for p in brief.proof_points if clean(p)]
    track = sentences(clean(brief.talk_track))
    refs = [r for r in core + proofs + track if r]
    per_text = [[s for s in sentences(clean(t))] for t in texts]
    flat = [s for ss in per_text for s in ss]
    if not refs:
        return [OutreachScore(0.0, 0.0, 0.0, [], proofs, []) for _ in texts]
    matrix = sim_fn(flat, refs) if flat else np.zeros((0, len(refs)))
    doc_sims = sim_fn([" ".join(ss) for ss in per_text], [" ".join(core)]) if texts else np.zeros((0, 1))
    out: list[OutreachScore] = []
    start = 0
    n_core = len(core)
    proof_cols = range(n_core, n_core + len(proofs))
    for t, ss in enumerate(per_text):
        block = matrix[start:start + len(ss)]
        start += len(ss)
        verdicts = []
        content_rows = []
        for i, s in enumerate(ss):
            j = int(block[i].argmax())
            value = float(block[i, j])
            if _is_neutral(s):
                status = "neutral"
            else:
                content_rows.append(i)
                status = "match" if value >= cal.match else "drift"
            verdicts.append(SentenceVerdict(text=s, similarity=round(value, 3), status=status, closest=refs[j]))
        if not content_rows:
            out.append(OutreachScore(0.0, 0.0, 0.0, [], proofs, verdicts))
            continue
        content = block[content_rows]
        best_core = float(content[:, :n_core].max())
        semantic = min(1.0, (0.5 * best_core + 0.5 * float(doc_sims[t, 0])) / cal.full)
        covered = [proofs[k] for k, col in enumerate(proof_cols) if float(content[:, col].max()) >= cal.match]
        coverage = len(covered) / len(proofs) if proofs else semantic
        score = SEMANTIC_WEIGHT * semantic + (1 - SEMANTIC_WEIGHT) * coverage
        out.append(OutreachScore(score=round(score, 3), semantic=round(semantic, 3), coverage=round(coverage, 3),
                                 covered=covered, missing=[p for p in proofs if p not in covered], sentences=verdicts))
    return out


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
