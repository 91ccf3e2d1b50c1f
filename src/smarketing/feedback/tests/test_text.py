"""Pure text helpers: cleaning keeps words and drops control characters; the lexicon sentiment scorer."""

from __future__ import annotations

import pytest

from smarketing.feedback.text import clean, sentences, sentiment, stem


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Price  is\ttoo high  ", "Price is too high"),
    ("line one\r\n\r\n  line two ", "line one\nline two"),
    ("NUL\x00 and bell\x07 gone", "NUL and bell gone"),
    ("e\u0301te\u0301", "été"),  # NFC
    ("", ""),
])
def test_clean(raw, expected):
    assert clean(raw) == expected


def test_sentences_split_on_punctuation_and_lines():
    assert sentences("Hi Anna,\nWe close in 3 days. Really? Yes!") == ["Hi Anna,", "We close in 3 days.", "Really?",
                                                                      "Yes!"]


@pytest.mark.parametrize(("text", "label"), [
    ("They love how easy and fast it is", "positive"),
    ("The product is not good and support is slow", "negative"),
    ("Pricing is too expensive for their team", "negative"),
    ("They went with Acme", "negative"),
    ("Not a problem for them at all", "positive"),
    ("Met the CFO on Tuesday", "neutral"),
    ("Es ist zu teuer und langsam", "negative"),
    ("🙂", "neutral"),
])
def test_sentiment_labels(text, label):
    assert sentiment(text).label == label


def test_intensifiers_weigh_more():
    assert sentiment("very very slow").score < sentiment("slow").score < 0


def test_stem():
    assert stem("integrations") == stem("integration") and stem("ssos") == "ssos"
