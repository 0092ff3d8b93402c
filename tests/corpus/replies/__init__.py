"""The reply-text corpus: messages in the formats of common clients, with the text a reader
would call the reply (SOURCES.md). Read by `./scripts/bench --only replytext` and by
`tests/unit/mail/test_reply_corpus.py`. The samples in `heldout/` and `heldout2/` were each
written by someone who had seen neither the extractor nor the samples before them, so each set
is scored apart as well."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
LANGUAGES = ("en", "de", "fr", "es", "ru", "pt", "nl", "sv")
# The held-out sets in the order they were written: (name in the bench rows, folder).
HELDOUT = (("held-out", "heldout"), ("held-out 2", "heldout2"))


@dataclass(frozen=True, slots=True)
class Sample:
    id: str
    language: str
    client: str
    format: str  # "plain" or "html"
    body: str
    expected: str
    # "" for the corpus, else the held-out set's name ("held-out", "held-out 2"): samples not
    # seen while the extractor was written
    heldout: str = ""


def load_samples() -> list[Sample]:
    """Every sample: the corpus files first, then the held-out sets."""
    samples = []
    folders = [("", HERE), *((name, HERE / folder) for name, folder in HELDOUT)]
    for heldout, folder in folders:
        for path in sorted(folder.glob("*.toml")):
            for raw in tomllib.loads(path.read_text(encoding="utf-8"))["sample"]:
                samples.append(
                    Sample(
                        id=raw["id"],
                        language=raw.get("language", path.stem),
                        client=raw["client"],
                        format=raw["format"],
                        body=raw["body"],
                        expected=raw["expected"],
                        heldout=heldout,
                    )
                )
    return samples


def normalise(text: str) -> str:
    """Whitespace-insensitive form: line breaks, indentation and blank lines do not count."""
    return " ".join(text.split())


def exact(extract: Callable[[Sample], str], sample: Sample) -> bool:
    return normalise(extract(sample)) == normalise(sample.expected)
