"""Languages of text search: the one ISO 639-1 table that every analyser reads.

A doc's ``language`` (and a search's ``lang``) is a code (``fr``, ``pt-BR``, ``en_GB``) or
a name (``french``). ``language_name`` turns either into a lower-case language name; the
in-memory index (``lexical.stemmer_name``: PyStemmer's Snowball algorithms) and PostgreSQL
(``postgres.ts_config``: its built-in text search configurations) each use that name when
they have an analyser of that name, and fall back to no stemming (``simple``) otherwise.
"""

from __future__ import annotations

import re

# ISO 639-1 codes of the languages PyStemmer (Snowball) or PostgreSQL 14+ can stem.
LANGUAGES = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hi": "hindi",
    "hu": "hungarian", "id": "indonesian", "ga": "irish", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "nn": "norwegian", "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "st": "sesotho", "es": "spanish", "sv": "swedish",
    "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
_NAMES = frozenset(LANGUAGES.values())


def is_english(language: str | None) -> bool:
    """``english``, ``en``, ``en-US``, ``en_GB``... (None counts as English, the default)."""
    lang = (language or "english").strip().lower()
    return lang in ("english", "en") or lang.startswith(("en-", "en_"))


def language_name(language: str | None) -> str:
    """``english`` for English (and None); else the name of a known code or name, or the
    given text itself, lower-cased (which no analyser may know)."""
    if is_english(language):
        return "english"
    lang = (language or "").strip().lower()
    if lang in _NAMES:
        return lang
    return LANGUAGES.get(re.split(r"[-_]", lang)[0], lang)
