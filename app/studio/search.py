"""The terms of a text, for the media library's ``q`` search (Ads API §7.2): pure.

A term is a run of letters and digits, lower-cased (``casefold``), at most
``MAX_TERM`` characters (longer runs are cut, on both sides of the match alike), so
``"Mountains.MP4"`` has the terms ``mountains`` and ``mp4``. An item matches ``q`` when
every term of ``q`` is one of its terms (of its name, title, file_name or description).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_QUERY_TERMS", "MAX_TERM", "query_terms", "terms"]

MAX_TERM = 64  # studio_library_terms.term
MAX_QUERY_TERMS = 8  # more terms than this in ``q`` are refused (each is one join)
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return [word.casefold()[:MAX_TERM] for word in _WORD.findall(text)]


def terms(texts: Iterable[str | None]) -> set[str]:
    """Every term of the texts (None and empty ones have none)."""
    found: set[str] = set()
    for text in texts:
        if text:
            found.update(_words(text))
    return found


def query_terms(q: str) -> list[str]:
    """The distinct terms of a query, in their order."""
    return list(dict.fromkeys(_words(q)))
