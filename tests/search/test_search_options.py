"""Search defaults defined once: the body of ``POST .../search`` and ``RankOptions`` agree;
``RecallOptions`` (a session's ``recall_options``) differs only where Julep's wire contract
does; stored options parse back whole."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from sprig.server.search.options import RecallOptions, SearchOptions
from sprig.server.search.ranking import RankOptions
from sprig.server.search.routes import SearchIn


@pytest.mark.parametrize("mode", ["text", "vector", "hybrid"])
def test_recall_search_and_ranking_share_their_defaults(mode: str) -> None:
    recall = RecallOptions.of_session({"mode": mode})
    assert recall is not None
    body = SearchIn(text="x", mode=mode)  # type: ignore[arg-type]
    expected = asdict(RankOptions(mode=mode))  # type: ignore[arg-type]
    assert asdict(body.query().options) == expected
    wire = {"confidence": 0.5, "mmr_strength": 0.5, "k_multiplier": 7}
    assert asdict(recall.rank_options(recall.mode)) == {**expected, **wire}


def test_the_defaults_are_the_measured_ones_and_julep_s_for_sessions() -> None:
    body = SearchIn(text="x")
    assert (body.confidence, body.mmr_strength, body.k_multiplier) == (0.0, 0.0, 5)
    stored = RecallOptions().stored()  # what a session created without options reads back
    assert (stored["confidence"], stored["mmr_strength"]) == (0.5, 0.5)
    assert (stored["alpha"], stored["k_multiplier"]) == (0.5, 7)
    assert stored["trigram_similarity_threshold"] is None  # kept, though unused


def test_stored_options_of_any_mode_parse_back() -> None:
    for mode in ("text", "vector", "hybrid"):
        sent = RecallOptions(mode=mode, limit=3, num_search_messages=2)  # type: ignore[arg-type]
        again = RecallOptions.of_session(sent.stored())
        assert again is not None and again.stored() == sent.stored()
    vector = RecallOptions.of_session({"mode": "vector", "confidence": 0.2})
    assert vector is not None
    assert vector.rank_options("vector").k_multiplier == 7  # the session's default
    assert RecallOptions.of_session({}) is None and RecallOptions.of_session(None) is None


def test_confidence_minus_one_is_no_floor() -> None:
    assert SearchOptions(confidence=-1).rank_options("vector").confidence is None
    assert SearchOptions(confidence=0.3).rank_options("vector").confidence == 0.3


def test_recall_query_is_the_last_messages_cut_from_the_end() -> None:
    options = RecallOptions(num_search_messages=2, max_query_length=100)
    assert options.query_text(["a", "b", " ", "c"]) == "c"
    assert options.query_text(["a", "b", "c"]) == "b\nc"
    assert options.query_text(["x" * 150]) == "x" * 100
