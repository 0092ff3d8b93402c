"""HTML mail bodies as plain text: block elements become line breaks, scripts and styles go,
list items keep a marker ("- ", or "1. " in a numbered list, as clients' own text parts do).

Pure and lenient (`html.parser` never raises on bad markup, and mail is full of it). The caller
may name elements to leave out with their content (`skip`) and elements where the text ends
(`stop`): `mail/reply_text.py` drops quoted history that way, by the markers clients put on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser

Attrs = dict[str, str]
Predicate = Callable[[str, Attrs], bool]

# HTML's void elements (no end tag, never on the stack); o:p is Word's empty paragraph mark.
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_BLOCK = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table tbody td th thead tr ul".split()
)
_INVISIBLE = frozenset({"head", "style", "script", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u200b]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _never(tag: str, attrs: Attrs) -> bool:
    return False


class _TextParser(HTMLParser):
    def __init__(self, skip: Predicate, stop: Predicate) -> None:
        super().__init__(convert_charrefs=True)
        self._skip, self._stop = skip, stop
        self._stack: list[str] = []
        self._hidden_from: int | None = None  # stack depth where a left-out element opened
        self._pre = 0
        self._lists: list[int | None] = []  # open <ul> (None) and <ol> (items so far)
        self.parts: list[str] = []
        self._fresh = True  # nothing on the current line yet
        self.stopped = False

    def _newline(self, *, hard: bool = False) -> None:
        # A block boundary starts a line unless one just started; <br> always adds one.
        if hard or not self._fresh:
            self.parts.append("\n")
            self._fresh = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        values = {name: value or "" for name, value in attrs}
        if self._hidden_from is None and self._stop(tag, values):
            self.stopped = True
            return
        if tag in _VOID:
            if self._hidden_from is None and tag in ("br", "hr"):
                self._newline(hard=tag == "br")
            return
        if self._hidden_from is None and (tag in _INVISIBLE or self._skip(tag, values)):
            self._hidden_from = len(self._stack)
        self._stack.append(tag)
        if tag == "pre":
            self._pre += 1
        if tag in ("ul", "ol"):
            self._lists.append(None if tag == "ul" else 0)
        if tag in _BLOCK and self._hidden_from is None:
            self._newline()
            if tag == "li":
                self._marker()

    def _marker(self) -> None:
        numbered = self._lists[-1] if self._lists else None
        if numbered is None:
            self.parts.append("- ")
        else:
            self._lists[-1] = numbered + 1
            self.parts.append(f"{numbered + 1}. ")

    def handle_endtag(self, tag: str) -> None:
        if self.stopped or tag not in self._stack:
            return  # a stray end tag closes nothing
        while self._stack:  # close what was left open inside it (<p> without </p>, …)
            closed = self._stack.pop()
            if closed == "pre":
                self._pre -= 1
            if closed in ("ul", "ol") and self._lists:
                self._lists.pop()
            if self._hidden_from is not None and len(self._stack) <= self._hidden_from:
                self._hidden_from = None
            if closed == tag:
                break
        if tag in _BLOCK and self._hidden_from is None:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.stopped or self._hidden_from is not None:
            return
        if self._pre:
            self.parts.append(data)
            self._fresh = data.endswith("\n")
            return
        # Layout whitespace between tags is no text; a &nbsp; is (Word's empty paragraphs).
        if self._fresh and not data.strip() and "\u00a0" not in data:
            return
        self.parts.append(_SPACES.sub(" ", data))
        self._fresh = False


def html_to_text(
    html: str, *, skip: Predicate = _never, stop: Predicate = _never
) -> tuple[str, bool]:
    """(the text of `html`, whether an element named by `stop` ended it)."""
    parser = _TextParser(skip, stop)
    parser.feed(html)
    parser.close()
    lines = (line.strip(" \u00a0") for line in "".join(parser.parts).split("\n"))
    text = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    return text, parser.stopped
