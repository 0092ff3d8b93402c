"""The classifier against the real-mail corpus of bench/corpus/classify (issue 16 item 6).

A correctness threshold, not a timing: the same scoring as `./scripts/bench --only classify`.
"""

from __future__ import annotations

import pytest
from bench import classify as corpus

SCORE = corpus.score(corpus.load())


def _misses(expected: str) -> str:
    return "\n".join(
        f"{v.sample.path.name}: {v.result.type} {list(v.result.reasons)}"
        for v in SCORE.misses()
        if v.sample.expected == expected
    )


def test_corpus_has_the_promised_size_and_sources() -> None:
    assert SCORE.count("bounce") >= 300
    assert SCORE.count("autoReply") >= 100
    assert SCORE.count("human") >= 100
    bounce_sources = {v.sample.source for v in SCORE.verdicts if v.sample.expected == "bounce"}
    assert len(bounce_sources) >= 3


def test_bounce_recall_with_the_failed_recipient() -> None:
    assert SCORE.bounce_recall() >= corpus.BOUNCE_RECALL, _misses("bounce")


@pytest.mark.parametrize("origin", corpus.ORIGINS)
def test_auto_reply_recall(origin: str) -> None:
    """Real and constructed auto-replies each meet the target (constructed ones measure the
    rules' coverage of documented formats, real ones what arrives)."""
    assert SCORE.autoreplies(origin)[1] > 0
    assert SCORE.autoreply_recall(origin) >= corpus.AUTOREPLY_RECALL, _misses("autoReply")


def test_no_human_reply_is_classified_as_anything_else() -> None:
    assert not SCORE.humans_misread(), _misses("human")


@pytest.mark.parametrize("expected", corpus.EXPECTED)
def test_every_label_has_its_file(expected: str) -> None:
    samples = [s for s in corpus.load() if s.expected == expected]
    assert samples and all(s.path.is_file() for s in samples)
    if expected == "bounce":
        assert all(s.recipients for s in samples)
