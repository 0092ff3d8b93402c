"""The reply-text corpus (tests/corpus/replies, SOURCES.md): at least 95 % of the samples give
exactly the expected text after whitespace normalisation, in every one of the 8 languages, and
at least 95 % of each held-out set (`heldout/`, `heldout2/`, each written without sight of the
extractor nor the samples before it)."""

from __future__ import annotations

from collections import Counter

import pytest

from imapapi.mail.reply_text import reply_from_html, reply_from_text
from tests.corpus.replies import HELDOUT, LANGUAGES, Sample, exact, load_samples

TARGET = 0.95
SETS = [name for name, _ in HELDOUT]


def extract(sample: Sample) -> str:
    return (reply_from_html if sample.format == "html" else reply_from_text)(sample.body).text


def test_corpus_is_the_size_the_issue_asks_for() -> None:
    samples = load_samples()
    corpus = [s for s in samples if not s.heldout]
    per_language = Counter(s.language for s in corpus)
    assert len(corpus) >= 160
    assert {lang: per_language[lang] >= 15 for lang in LANGUAGES} == dict.fromkeys(LANGUAGES, True)
    assert {s.format for s in corpus} == {"plain", "html"}
    assert len({s.id for s in samples}) == len(samples)


@pytest.mark.parametrize("name", SETS)
def test_held_out_set_has_120_samples_15_per_language(name: str) -> None:
    heldout = [s for s in load_samples() if s.heldout == name]
    per_language = Counter(s.language for s in heldout)
    assert len(heldout) >= 120
    assert {lang: per_language[lang] >= 15 for lang in LANGUAGES} == dict.fromkeys(LANGUAGES, True)
    assert {s.format for s in heldout} == {"plain", "html"}


def test_reply_text_is_exact_on_at_least_95_percent_per_language() -> None:
    samples = [s for s in load_samples() if not s.heldout]
    misses = [s.id for s in samples if not exact(extract, s)]
    assert 1 - len(misses) / len(samples) >= TARGET, misses
    for language in LANGUAGES:
        ours = [s for s in samples if s.language == language]
        missed = [s.id for s in ours if s.id in misses]
        assert 1 - len(missed) / len(ours) >= TARGET, missed


@pytest.mark.parametrize("name", SETS)
def test_reply_text_is_exact_on_at_least_95_percent_of_a_held_out_set(name: str) -> None:
    """15-19 held-out samples per language are too few for a per-language share of their own,
    so each language is held to 95 % over the corpus and the held-out set together."""
    samples = [s for s in load_samples() if s.heldout in ("", name)]
    misses = {s.id for s in samples if not exact(extract, s)}
    heldout = [s for s in samples if s.heldout == name]
    missed = sorted(s.id for s in heldout if s.id in misses)
    assert 1 - len(missed) / len(heldout) >= TARGET, missed
    for language in LANGUAGES:
        ours = [s for s in samples if s.language == language]
        missed = sorted(s.id for s in ours if s.id in misses)
        assert 1 - len(missed) / len(ours) >= TARGET, missed
