"""/v1/files and /v1/vector_stores on Sprig's documents, and file_search in Responses,
through the official openai SDK against a live server."""

from __future__ import annotations

import io

import httpx
import openai
import pytest

from sprig.server.models.scripted import ScriptedModel
from tests.helpers.openai_api import agent, said

TIDES = b"Tide tables\n\nHigh tide at Porto is at 06:12 and 18:40 on Saturday."
BAKERY = b"The bakery on Rua Augusta opens at seven and sells pasteis de nata."


def upload(oai: openai.OpenAI, name: str, content: bytes) -> str:
    return oai.files.create(file=(name, io.BytesIO(content)), purpose="assistants").id


def test_files_round_trip(oai: openai.OpenAI) -> None:
    file_id = upload(oai, "tides.md", TIDES)
    got = oai.files.retrieve(file_id)
    assert (got.filename, got.bytes, got.purpose) == ("tides.md", len(TIDES), "assistants")
    assert oai.files.content(file_id).read() == TIDES
    assert file_id in [f.id for f in oai.files.list()]
    assert oai.files.delete(file_id).deleted
    with pytest.raises(openai.NotFoundError):
        oai.files.retrieve(file_id)


def test_a_vector_store_searches_its_files(oai: openai.OpenAI, api: httpx.Client) -> None:
    tides, bakery = upload(oai, "tides.md", TIDES), upload(oai, "bakery.txt", BAKERY)
    store = oai.vector_stores.create(name="porto", file_ids=[tides], metadata={"city": "porto"})
    assert store.file_counts.completed == 1 and store.metadata == {"city": "porto"}
    added = oai.vector_stores.files.create(
        vector_store_id=store.id, file_id=bakery, attributes={"kind": "food"}
    )
    assert (added.id, added.status, added.attributes) == (bakery, "completed", {"kind": "food"})
    listed = oai.vector_stores.files.list(vector_store_id=store.id)
    assert {f.id for f in listed.data} == {tides, bakery}
    found = oai.vector_stores.search(vector_store_id=store.id, query="when is high tide")
    best = found.data[0]
    assert (best.file_id, best.filename) == (tides, "tides.md")
    assert "06:12" in best.content[0].text and best.score > 0
    oai.vector_stores.files.delete(file_id=tides, vector_store_id=store.id)
    again = oai.vector_stores.search(vector_store_id=store.id, query="when is high tide")
    assert tides not in [d.file_id for d in again.data]
    assert oai.vector_stores.update(store.id, name="porto2").name == "porto2"
    assert oai.vector_stores.delete(store.id).deleted
    with pytest.raises(openai.NotFoundError):
        oai.vector_stores.retrieve(store.id)


def test_binary_files_cannot_go_into_a_vector_store(oai: openai.OpenAI) -> None:
    pdf = upload(oai, "scan.pdf", b"%PDF-1.7\n\xff\xfe\x00\x01binary")
    store = oai.vector_stores.create(name="scans")
    with pytest.raises(openai.BadRequestError) as refused:
        oai.vector_stores.files.create(vector_store_id=store.id, file_id=pdf)
    assert "not a UTF-8 text file" in refused.value.message
    assert oai.vector_stores.retrieve(store.id).file_counts.total == 0


def test_file_search_in_a_response(
    oai: openai.OpenAI, api: httpx.Client, model: ScriptedModel
) -> None:
    agent(api, "Guide")
    store = oai.vector_stores.create(name="porto", file_ids=[upload(oai, "tides.md", TIDES)])
    model.push("High tide is at 06:12.")
    tool = {"type": "file_search", "vector_store_ids": [store.id]}
    reply = oai.responses.create(model="Guide", input="When is high tide?", tools=[tool])
    assert [o.type for o in reply.output] == ["file_search_call", "message"]
    assert reply.output[0].queries == ["When is high tide?"]
    assert reply.output_text == "High tide is at 06:12."
    excerpts = [t for r, t in said(model) if r == "system" and "Excerpts" in t]
    assert excerpts and "06:12" in excerpts[0]
    assert model.requests[-1].tools == []  # searched by Sprig, not offered to the model
    model.push("Still 06:12.")
    events = list(
        oai.responses.create(model="Guide", input="High tide?", tools=[tool], stream=True)
    )
    added = [e for e in events if e.type == "response.output_item.added"]
    assert [e.item.type for e in added] == ["file_search_call", "message"]
    assert [e.output_index for e in added] == [0, 1]
    with pytest.raises(openai.NotFoundError):
        oai.responses.create(
            model="Guide",
            input="x",
            tools=[{"type": "file_search", "vector_store_ids": ["vs_" + "0" * 32]}],
        )
