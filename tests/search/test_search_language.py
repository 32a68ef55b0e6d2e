"""One ISO 639-1 table: the in-memory index's stemmers and PostgreSQL's text search
configurations resolve a language the same way, each falling back where it cannot stem."""

from __future__ import annotations

import Stemmer

from sprig.server.search.language import LANGUAGES, language_name
from sprig.server.search.lexical import stemmer_name
from sprig.server.search.postgres import PG_CONFIGS, ts_config


def test_every_code_reaches_both_analysers_through_one_table() -> None:
    snowball = set(Stemmer.algorithms())
    assert set(LANGUAGES.values()) >= PG_CONFIGS  # every PostgreSQL config has its codes
    for code, name in LANGUAGES.items():
        for spelling in (code, f"{code}-XX", f"{code}_xx", name, name.title()):
            assert language_name(spelling) == name
            assert ts_config(spelling) == (name if name in PG_CONFIGS else "simple")
            expected = "porter" if name == "english" else name
            assert stemmer_name(spelling) == (expected if name in snowball else "simple")


def test_languages_only_one_side_can_stem() -> None:
    assert (stemmer_name("cs"), ts_config("cs")) == ("czech", "simple")
    assert (stemmer_name("zh-CN"), ts_config("zh-CN")) == ("simple", "simple")
    assert (stemmer_name(None), ts_config(None)) == ("porter", "english")
