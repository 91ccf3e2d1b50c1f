"""Names for feedback themes in words a marketer would use (pure: plain texts in, phrases out).

A theme is named by phrases its own items say, as they say them: runs of one to four words inside one clause,
never starting or ending on a stop word, an auxiliary or a word every piece of feedback uses. Each phrase is
counted once per item (by its stems, so "prices" and "price" meet), weighted by how central the item is to the
theme, and scored by how much of the theme says it times how much of what says it is in this theme. Its surface
form is the way the theme's items write it most often, lower-cased unless written as a name or acronym ("SSO",
"NetSuite"). Chosen phrases never repeat each other's words, so the list reads as different points.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from smarketing.feedback.text import sentences, stem


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_WORDS = 4
COVERAGE_POWER = 2.0
# A longer phrase says more but is said less often; these weights trade the two (tuned on the demo's feedback and
# the labelled set in feedback/tests/labelled.py).
LENGTH_WEIGHT = {1: 0.5, 2: 1.0, 3: 1.0, 4: 0.9}
# Words that may lead a phrase though they are stop words: "no budget", "too expensive", "not live".
LEADERS = frozenset({"no", "too", "not"})
# Stop words beyond scikit-learn's English list: auxiliaries, hedges and talk about the talk.
EXTRA_STOP = _wordset(
    "does did doing don't doesn't didn't isn't aren't wasn't weren't can't won't would've it's they're we're "
    "i'm let's that's there's what's lot lots way ways thing things bit kind sort able think thinks thought "
    "looks look looked looking seems seem felt feel feels going gone goes say saying tell telling know knows "
    "called call calls asked ask asks told came come comes went make makes made took take takes actually "
    "currently right now per keeps keep kept coming flagging flag notes marketing"
)
# A phrase holding one of these is a clause, not a name: "names would save", "we could offer".
MODALS = _wordset("would could should will can may might must shall")
# "showed the quote", "praised the support": a word and then an article is a verb and its object, not a name.
ARTICLES = _wordset("the a an")
# Counted amounts break a phrase as digits do: "close from fifteen days" is two phrases.
NUMBERS = _wordset("one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
                   "hundred hundreds thousand thousands half dozen")
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|[\d]+[^\s,;:]*|[,;:()\[\]\"“”!?.]|\s[-–—]\s")


@dataclass(frozen=True)
class Phrase:
    """A candidate phrase of one theme with its score and how much of the theme says it."""

    text: str
    stems: tuple[str, ...]
    score: float
    coverage: float


def fold(word: str) -> str:
    """The stem a phrase is counted by: text.stem, and a final e dropped so "price" meets "pricing"."""
    s = stem(word)
    return s[:-1] if s.endswith("e") and len(s) > 4 else s


def _clauses(text: str) -> list[list[str]]:
    """Runs of words between punctuation, dashes and numbers (a phrase never crosses them)."""
    out: list[list[str]] = []
    for sentence in sentences(text):
        run: list[str] = []
        for token in _TOKEN.findall(sentence):
            if token[0].isalpha() and token.lower() not in NUMBERS:
                if not run and token[1:].islower():  # capitalised only because it starts a sentence or clause
                    token = token.lower()
                run.append(token.replace("’", "'"))
            elif run:
                out.append(run)
                run = []
        if run:
            out.append(run)
    return out


def _candidates(text: str, stop: frozenset[str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Each phrase of a text once: stems -> the surface words as written."""
    found: dict[tuple[str, ...], tuple[str, ...]] = {}
    for run in _clauses(text):
        lowered = [w.lower() for w in run]
        for i in range(len(run)):
            first = lowered[i]
            if len(first) < 2 or (first in stop and first not in LEADERS):
                continue
            for n in range(1, MAX_WORDS + 1):
                j = i + n
                if j > len(run):
                    break
                last = lowered[j - 1]
                if last in stop or len(last) < 2:
                    continue
                inner = lowered[i:j]
                if any(w in MODALS for w in inner) or (n >= 3 and inner[1] in ARTICLES):
                    continue
                if sum(1 for w in inner if w not in stop) < max(1, n - 2):
                    continue  # mostly stop words inside: "price of the" ... never a name
                key = tuple(fold(w) for w in inner)
                found.setdefault(key, tuple(run[i:j]))
    return found


def _surface(forms: Counter[tuple[str, ...]]) -> str:
    """The most frequent spelling; a word keeps its capitals when mostly written so (names, acronyms)."""
    best = forms.most_common(1)[0][0]
    words: list[str] = []
    for pos, word in enumerate(best):
        capitalised = sum(n for form, n in forms.items() if form[pos][:1].isupper())
        lower = sum(n for form, n in forms.items() if not form[pos][:1].isupper())
        words.append(word if capitalised > lower else word.lower())
    return " ".join(words)


def theme_phrases(texts: Sequence[str], labels: Sequence[int], k: int, *, stop: frozenset[str],
                  weights: Sequence[float] | None = None, top: int = 5) -> list[list[Phrase]]:
    """The `top` phrases naming each of the k groups (label -1 = not grouped), best first."""
    stop = stop | EXTRA_STOP
    doc_freq: Counter[tuple[str, ...]] = Counter()
    theme_freq: list[defaultdict[tuple[str, ...], float]] = [defaultdict(float) for _ in range(k)]
    theme_docs: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(k)]
    forms: dict[tuple[int, tuple[str, ...]], Counter[tuple[str, ...]]] = defaultdict(Counter)
    mass = [0.0] * k
    sizes = [0] * k
    for row, (text, label) in enumerate(zip(texts, labels, strict=True)):
        found = _candidates(text, stop)
        doc_freq.update(found.keys())
        if not 0 <= label < k:
            continue
        w = max(0.05, float(weights[row])) if weights is not None else 1.0
        mass[label] += w
        sizes[label] += 1
        for key, surface in found.items():
            theme_freq[label][key] += w
            theme_docs[label][key] += 1
            forms[(label, key)][surface] += 1
    out: list[list[Phrase]] = []
    for c in range(k):
        floor = 1 if sizes[c] < 6 else 2
        said = {key: (weight / mass[c], theme_docs[c][key] / doc_freq[key])
                for key, weight in theme_freq[c].items() if theme_docs[c][key] >= floor}
        # How much one word speaks for this theme: said widely in it, and mostly in it.
        word = {key[0]: cov ** COVERAGE_POWER * excl for key, (cov, excl) in said.items() if len(key) == 1}
        scored = []
        for key, (cov, excl) in said.items():
            content = {s for s in key if s in word}
            score = sum(word[s] for s in content) * cov ** 0.5 * excl * LENGTH_WEIGHT[len(key)]
            scored.append((score, cov, key))
        scored.sort(key=lambda s: (-s[0], -len(s[2]), s[2]))
        chosen: list[Phrase] = []
        used: set[str] = set()
        for score, coverage, key in scored:
            if len(chosen) >= top:
                break
            content = {s for s in key if s in word}
            if content & used:
                continue
            used |= content
            chosen.append(Phrase(text=_surface(forms[(c, key)]), stems=key, score=round(score, 4),
                                 coverage=round(coverage, 4)))
        out.append(chosen)
    return out


def theme_name(phrases: Sequence[str]) -> str:
    """A theme's name from its best phrases: the first, joined by the second when the first is short."""
    if not phrases:
        return "(unnamed theme)"
    first = phrases[0]
    name = first
    if len(first.split()) < 3 and len(phrases) > 1:
        name = f"{first}, {phrases[1]}"
    return name[:1].upper() + name[1:]


def centrality(scores: Sequence[float]) -> list[float]:
    """Weights from similarity to the theme's centroid: central items speak for the theme more."""
    return [math.exp(2.0 * max(-1.0, min(1.0, float(s)))) for s in scores]
