"""`./scripts/bench --only replytext`: how often `text.reply` is exactly the reply's own text.

Runs `mail/reply_text.py` over `tests/corpus/replies` (no server, a second or so) and prints
the share of samples whose result equals the expected text after whitespace normalisation, per
language, per client and overall, and apart each held-out set (`heldout/`, `heldout2/`, each
written without sight of the extractor nor the samples before it: the figure to trust when they
differ, and the newest the most), per language and as a whole. Reply
parsers from PyPI that are installed in the same environment (`mail-parser-reply`,
`email-reply-parser`, `quotequail`) get a column each, fed the same text (HTML samples made
text by `mail/html_text.py` first, without any of our quote markers), so the choice of writing
our own stays checkable.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from tests.corpus.replies import HELDOUT, LANGUAGES, Sample, exact, load_samples

from imapapi.mail.html_text import html_to_text
from imapapi.mail.reply_text import reply_from_html, reply_from_text

TARGET = 0.95
Extractor = Callable[[Sample], str]


def ours(sample: Sample) -> str:
    extract = reply_from_html if sample.format == "html" else reply_from_text
    return extract(sample.body).text


def _as_text(sample: Sample) -> str:
    return html_to_text(sample.body)[0] if sample.format == "html" else sample.body


def _libraries() -> dict[str, Extractor]:
    """The PyPI reply parsers that can be imported here, as extractors."""
    found: dict[str, Extractor] = {}
    try:
        mpr: Any = importlib.import_module("mailparser_reply")
        parser = mpr.EmailReplyParser(languages=["en", "de", "fr", "es", "nl", "sv"])
        found["mail-parser-reply"] = lambda s: parser.parse_reply(text=_as_text(s)) or ""
    except ImportError:
        pass
    try:
        erp: Any = importlib.import_module("email_reply_parser")
        found["email-reply-parser"] = lambda s: erp.EmailReplyParser.parse_reply(_as_text(s))
    except ImportError:
        pass
    try:
        qq: Any = importlib.import_module("quotequail")

        def quotequail(sample: Sample) -> str:
            parts = qq.quote(_as_text(sample))
            return "\n".join(text for new, text in parts if new)

        found["quotequail"] = quotequail
    except ImportError:
        pass
    return found


def _score(extract: Extractor, sample: Sample) -> bool:
    try:
        return exact(extract, sample)
    except Exception:  # a library that fails on a sample scores it as wrong
        return False


def run_replytext(*, show_failures: bool = True) -> int:
    samples = load_samples()
    extractors: dict[str, Extractor] = {"imapapi": ours, **_libraries()}
    hits = {name: {s.id: _score(fn, s) for s in samples} for name, fn in extractors.items()}
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[f"language {s.language}"].append(s)
    for s in samples:
        groups[f"client {s.client}"].append(s)
    for s in samples:
        groups[f"format {s.format}"].append(s)
    for s in samples:
        if s.heldout:
            groups[f"{s.heldout} {s.language}"].append(s)
    sets = {name: [s for s in samples if s.heldout == name] for name, _ in HELDOUT}
    groups.update((name, members) for name, members in sets.items() if members)
    groups["overall"] = samples
    names = list(extractors)
    rows = [("group", "samples", *names)]
    ordered = [f"language {lang}" for lang in LANGUAGES if f"language {lang}" in groups]
    last = [f"{name} {lang}" for name in sets for lang in LANGUAGES if f"{name} {lang}" in groups]
    last += [g for g in (*sets, "overall") if g in groups]
    ordered += [*sorted(g for g in groups if g not in ordered and g not in last), *last]
    for group in ordered:
        members = groups[group]
        shares = [sum(hits[n][s.id] for s in members) / len(members) for n in names]
        rows.append((group, str(len(members)), *(f"{share:6.1%}" for share in shares)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print("== reply text: exact after whitespace normalisation (tests/corpus/replies) ==")
    for i, row in enumerate(rows):
        print(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))
    overall = sum(hits["imapapi"].values()) / len(samples)
    if show_failures:
        for s in samples:
            if not hits["imapapi"][s.id]:
                print(f"  miss: {s.id}{f' ({s.heldout})' if s.heldout else ''}")
    print(f"target ≥ {TARGET:.0%}: {'met' if overall >= TARGET else 'NOT met'} ({overall:.1%})")
    for name, members in sets.items():
        if members:
            share = sum(hits["imapapi"][s.id] for s in members) / len(members)
            verdict = "met" if share >= TARGET else "NOT met"
            print(f"{name}: {verdict} ({share:.1%} of {len(members)})")
    return 0 if overall >= TARGET else 1
