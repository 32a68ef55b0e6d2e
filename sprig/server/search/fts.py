"""English stop words and a query's terms, for full-text search.

(Text search ran on SQLite FTS5 until migration 0004; the schema it had is frozen in
``store/migrations/frozen_fts5.py``.)
"""

from __future__ import annotations

import re

from sprig.server.search.language import is_english

MAX_QUERY_TERMS = 64

# Tokens as unicode61 sees them: runs of letters and digits (underscore separates).
_TERM_RE = re.compile(r"[^\W_]+", re.UNICODE)

# A small English stop list (articles, pronouns, auxiliaries, prepositions): dropped from
# OR queries because each one matches most chunks and only adds noise and cost.
_STOPWORDS_TEXT = """a about above after again against all am an and any are as at be because
been before being below between both but by can could did do does doing down during each few
for from further had has have having he her here hers herself him himself his how i if in into
is it its itself just me more most my myself no nor not of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves"""
ENGLISH_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def query_terms(text: str, language: str | None = "english") -> list[str]:
    """Distinct lower-cased terms of ``text``, English stop words dropped unless all are."""
    seen: dict[str, None] = {}
    for term in _TERM_RE.findall(text.lower()):
        seen.setdefault(term, None)
    terms = list(seen)
    if is_english(language):
        content = [t for t in terms if t not in ENGLISH_STOPWORDS]
        terms = content or terms
    return terms[:MAX_QUERY_TERMS]
