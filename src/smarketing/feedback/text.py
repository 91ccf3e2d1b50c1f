"""Pure text helpers for feedback: cleaning, sentences, a light stemmer and a lexicon sentiment scorer.

No ORM and no downloads: the sentiment lexicon is small and written here, so scores are explainable.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# C0/C1 control characters except tab, newline and carriage return; PostgreSQL rejects NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t]+")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)



def clean(text: str) -> str:
    """Normalise Unicode (NFC), drop control characters and collapse runs of spaces; keeps line breaks."""
    text = unicodedata.normalize("NFC", text or "")
    text = _CONTROL.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def words(text: str) -> list[str]:
    """Lower-cased words made of letters (any script)."""
    return [w.lower() for w in _WORD.findall(text or "")]


def sentences(text: str) -> list[str]:
    """Split into sentences on end punctuation and line breaks; empty pieces dropped."""
    return [s.strip() for s in _SENTENCE.split(text or "") if s and s.strip()]


_SUFFIXES = ("ational", "ation", "ations", "ments", "ment", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly")


def stem(word: str) -> str:
    """A deliberately small suffix stripper: 'reconciliations' and 'reconciling' meet at 'reconcili'/'reconcil'."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


# --- sentiment -------------------------------------------------------------------------------------------------

_POSITIVE = _wordset(
    "love loved loves great excellent amazing awesome good helpful easy easier fast faster quick smooth reliable "
    "happy pleased impressed intuitive valuable saves save saved win won recommend recommended like liked "
    "best better clear simple solid responsive delighted seamless powerful flexible affordable fantastic "
    "praise praised thanks thank perfect enjoy enjoyed productive benefit benefits improved improvement "
    # a few common words of other languages so non-English feedback is not always neutral
    "excelente bueno genial fácil rápido génial bon facile rapide super gut toll einfach schnell ótimo bom"
)
_NEGATIVE = _wordset(
    "hate hated bad poor terrible awful slow slower expensive costly pricey overpriced difficult hard confusing "
    "confused broken bug bugs buggy crash crashes crashed fail fails failed failure missing lack lacks lacking "
    "frustrating frustrated annoying annoyed disappointed disappointing problem problems issue issues worse worst "
    "unreliable clunky complicated complex painful pain risk risky concern concerns worried blocker blocked "
    "lost lose losing churn churned cancel cancelled downtime outage outages error errors delay delays delayed "
    "unclear unhappy angry useless limited limitation limitations steep weak lacklustre lackluster cumbersome "
    "caro malo lento difícil problema cher mauvais lent difficile problème teuer schlecht langsam schwierig "
    "problem fehler stalled stuck deprioritised deprioritized breaks broke lags laggy sluggish freezes timeout "
    "timeouts balked scared afraid dealbreaker"
)
_NEGATORS = _wordset("not no never without hardly barely isn't aren't wasn't don't doesn't didn't can't cannot "
                      "won't nothing nobody none nor")
_INTENSIFIERS = {"very": 1.5, "really": 1.4, "extremely": 1.8, "so": 1.3, "too": 1.4, "super": 1.5,
                 "incredibly": 1.8, "quite": 1.2, "totally": 1.5, "absolutely": 1.6}
_NEGATIVE_PHRASES = ("too expensive", "too high", "too long", "too slow", "too much", "went with", "switched to",
                     "chose a competitor", "no budget", "not a priority", "doesn't integrate", "does not integrate",
                     "does not", "doesn't", "no native", "cannot", "can't", "would have to", "deal breaker",
                     "came up again", "pushed back", "push back")


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1 .. 1
    positive: int
    negative: int

    @property
    def label(self) -> str:
        if self.score > 0.15:
            return "positive"
        if self.score < -0.15:
            return "negative"
        return "neutral"


def sentiment(text: str) -> Sentiment:
    """Lexicon score with negation ("not good" counts as negative) and intensifiers ("very slow" counts more)."""
    ws = words(text)
    pos = neg = 0.0
    for i, w in enumerate(ws):
        polarity = 1 if w in _POSITIVE else -1 if w in _NEGATIVE else 0
        if polarity == 0:
            continue
        window = ws[max(0, i - 3):i]
        weight = 1.0
        for prev in window:
            weight *= _INTENSIFIERS.get(prev, 1.0)
        if any(p in _NEGATORS for p in window):
            polarity = -polarity
            weight *= 0.8
        if polarity > 0:
            pos += weight
        else:
            neg += weight
    lowered = " ".join(ws)
    neg += sum(1.0 for phrase in _NEGATIVE_PHRASES if phrase in lowered)
    total = pos + neg
    score = 0.0 if total == 0 else (pos - neg) / (total + 1.0)
    return Sentiment(score=round(max(-1.0, min(1.0, score)), 3), positive=round(pos), negative=round(neg))
