"""`./scripts/bench --only classify`: the classifier on the real-mail corpus, as a confusion table.

The corpus is `bench/corpus/classify/` (`SOURCES.md` says where each message comes from and how
its label was decided): `labels.csv` gives each file's expected type and, for bounces, the failed
recipient(s). Pure CPU, no server; `tests/unit/classify/test_corpus.py` runs the same scoring
and fails below the targets of issue 16.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from imapapi.classify import Classification, classify
from imapapi.mail.headers import parse_header_block

CORPUS = Path(__file__).resolve().parent / "corpus" / "classify"
# Expected types in the corpus, then the classifier's other answers (columns of the table).
EXPECTED = ("bounce", "autoReply", "human")
TYPES = (*EXPECTED, "list", "automated")
_FOLDER_TYPE = {"bounce": "bounce", "autoreply": "autoReply", "human": "human"}

# Sources we wrote ourselves (SOURCES.md): they measure the rules' coverage of documented
# formats, not real-world recall, so the table gives them rows of their own.
CONSTRUCTED_SOURCES = frozenset({"constructed", "written"})
ORIGINS = ("real", "constructed")

# Issue 16 item 6.
BOUNCE_RECALL = 0.97  # classified "bounce" with every labelled failed recipient found
AUTOREPLY_RECALL = 0.95


@dataclass(frozen=True)
class Sample:
    path: Path
    expected: str
    recipients: frozenset[str]
    source: str

    @property
    def origin(self) -> str:
        return "constructed" if self.source in CONSTRUCTED_SOURCES else "real"


@dataclass(frozen=True)
class Verdict:
    sample: Sample
    result: Classification

    @property
    def recipients_found(self) -> bool:
        """Every labelled failed recipient is among the report's recipients."""
        if self.result.bounce is None:
            return False
        got = {r.recipient.lower() for r in self.result.bounce.recipients}
        return self.sample.recipients <= got


@dataclass
class Score:
    verdicts: list[Verdict] = field(default_factory=list)

    def confusion(self, source: str | None = None) -> Counter[tuple[str, str]]:
        return Counter(
            (v.sample.expected, v.result.type)
            for v in self.verdicts
            if source is None or v.sample.source == source
        )

    def count(self, expected: str, source: str | None = None) -> int:
        return sum(n for (e, _), n in self.confusion(source).items() if e == expected)

    def by_origin(self) -> Counter[tuple[str, str, str]]:
        """(expected, origin, classified) counts: real and constructed samples apart."""
        return Counter((v.sample.expected, v.sample.origin, v.result.type) for v in self.verdicts)

    def bounce_found(self, source: str | None = None) -> int:
        """Bounces classified as bounces with their failed recipient(s) found."""
        return sum(
            1
            for v in self.verdicts
            if v.sample.expected == "bounce"
            and v.result.type == "bounce"
            and v.recipients_found
            and (source is None or v.sample.source == source)
        )

    def bounce_recall(self) -> float:
        return self.bounce_found() / max(1, self.count("bounce"))

    def autoreplies(self, origin: str | None = None) -> tuple[int, int]:
        """(classified right, total) auto-replies, of one origin or all."""
        counts = self.by_origin()
        cells = [(o, t, n) for (e, o, t), n in counts.items() if e == "autoReply"]
        right = sum(n for o, t, n in cells if t == "autoReply" and origin in (None, o))
        return right, sum(n for o, _t, n in cells if origin in (None, o))

    def autoreply_recall(self, origin: str | None = None) -> float:
        right, total = self.autoreplies(origin)
        return right / max(1, total)

    def humans_misread(self) -> list[Verdict]:
        return [
            v for v in self.verdicts if v.sample.expected == "human" and v.result.type != "human"
        ]

    def misses(self) -> list[Verdict]:
        """Every sample that counts against a target."""
        return [
            v
            for v in self.verdicts
            if v.result.type != v.sample.expected
            or (v.sample.expected == "bounce" and not v.recipients_found)
        ]

    def sources(self) -> list[str]:
        return sorted({v.sample.source for v in self.verdicts})


def load(root: Path = CORPUS) -> list[Sample]:
    with (root / "labels.csv").open(newline="", encoding="utf-8") as fh:
        return [
            Sample(
                root / row["file"],
                _FOLDER_TYPE[row["type"]],
                frozenset(row["recipients"].lower().split()),
                row["source"],
            )
            for row in csv.DictReader(fh)
        ]


def score(samples: list[Sample]) -> Score:
    result = Score()
    for sample in samples:
        raw = sample.path.read_bytes()
        verdict = classify(parse_header_block(raw), raw_message=raw)
        result.verdicts.append(Verdict(sample, verdict))
    return result


def table(result: Score) -> str:
    """The confusion table (expected rows, real and constructed samples apart, by classified
    columns), then one row per source."""
    width = max(len(t) for t in TYPES) + 2
    lines = ["expected \\ classified".ljust(24) + "".join(t.rjust(width) for t in TYPES)]
    counts = result.by_origin()
    for expected in EXPECTED:
        for origin in ORIGINS:
            if not any(counts[(expected, origin, t)] for t in TYPES):
                continue
            cells = "".join(str(counts[(expected, origin, t)]).rjust(width) for t in TYPES)
            lines.append(f"{expected} ({origin})".ljust(24) + cells)
    lines.append("")
    pad = max(22, *(len(source) + 2 for source in result.sources()))
    lines.append(
        "source".ljust(pad)
        + "bounces".rjust(9)
        + "found".rjust(8)
        + "autoReplies".rjust(13)
        + "right".rjust(7)
        + "humans".rjust(8)
        + "right".rjust(7)
    )
    for source in result.sources():
        c = result.confusion(source)
        lines.append(
            source.ljust(pad)
            + str(result.count("bounce", source)).rjust(9)
            + str(result.bounce_found(source)).rjust(8)
            + str(result.count("autoReply", source)).rjust(13)
            + str(c[("autoReply", "autoReply")]).rjust(7)
            + str(result.count("human", source)).rjust(8)
            + str(c[("human", "human")]).rjust(7)
        )
    lines.append("")
    lines.append(
        f"bounce recall with the failed recipient found: {result.bounce_found()}"
        f"/{result.count('bounce')} = {result.bounce_recall():.1%} (target {BOUNCE_RECALL:.0%})"
    )
    for origin in ORIGINS:
        right, total = result.autoreplies(origin)
        lines.append(
            f"auto-reply recall ({origin}): {right}/{total}"
            f" = {result.autoreply_recall(origin):.1%} (target {AUTOREPLY_RECALL:.0%})"
        )
    lines.append(
        f"human replies classified as something else: {len(result.humans_misread())} (target 0)"
    )
    return "\n".join(lines)


def run(verbose: bool = False) -> int:
    """Print the table (and with `verbose` every miss); 1 when a target is not met."""
    result = score(load())
    print("## classify (issue 16 item 6): bench/corpus/classify\n")
    print(table(result))
    if verbose:
        for v in result.misses():
            got = sorted(r.recipient for r in v.result.bounce.recipients) if v.result.bounce else []
            print(
                f"  miss {v.sample.path.relative_to(CORPUS)}: {v.result.type} "
                f"expected={sorted(v.sample.recipients)} got={got} {list(v.result.reasons)}"
            )
    met = (
        result.bounce_recall() >= BOUNCE_RECALL
        and all(result.autoreply_recall(origin) >= AUTOREPLY_RECALL for origin in ORIGINS)
        and not result.humans_misread()
    )
    return 0 if met else 1


if __name__ == "__main__":
    import sys

    sys.exit(run(verbose="-v" in sys.argv[1:]))
