"""Forming memories from chat turns with a scripted model: extraction, reconciliation
(update, invalidate, duplicates), and failures that write nothing and retry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.memory import World, memories_reply, memory_rows, run_form_job, say

MAY_1 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
JUNE_1 = datetime(2024, 6, 1, 18, 0, tzinfo=UTC)


async def _paris(runtime: Runtime, world: World, model: ScriptedModel) -> list[uuid.UUID]:
    ids = await say(runtime, world, "I live in Paris and my beagle Max is 3.", "Lovely!", MAY_1)
    model.push(
        memories_reply(
            {
                "op": "add",
                "type": "belief",
                "content": "The user lives in Paris",
                "entities": ["Paris"],
                "sources": [1],
            },
            {
                "op": "add",
                "type": "entity",
                "content": "Max is the user's three-year-old beagle",
                "entities": [{"name": "Max", "type": "pet"}],
                "sentiment": 0.6,
            },
        )
    )
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    return ids


async def test_extraction_stores_embedded_memories_with_their_sources(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await _paris(runtime, world, model)
    rows = await memory_rows(runtime, world)
    assert [(r["type"], r["content"]) for r in rows] == [
        ("belief", "The user lives in Paris"),
        ("entity", "Max is the user's three-year-old beagle"),
    ]
    paris, max_ = rows
    assert paris["source_entry_ids"] == [str(ids[0])]  # cited message 1: the user's
    assert max_["source_entry_ids"] == [str(i) for i in ids]  # no citation: the new ones
    assert paris["timestamp"] == MAY_1 and paris["valid_from"] == MAY_1
    assert paris["entities"] == [{"name": "Paris"}]
    assert max_["entities"] == [{"name": "Max", "type": "pet"}] and max_["sentiment"] == 0.6
    for row in rows:
        assert (row["agent_id"], row["user_id"], row["session_id"]) == (
            world.agent,
            world.user,
            world.session,
        )
        assert len(row["embedding"]) == 384 * 4 and row["invalidated_at"] is None
    request = model.requests[-1]
    assert request.response_format is not None
    assert request.response_format["type"] == "json_schema"  # the scripted model supports it
    schema = request.response_format["json_schema"]["schema"]
    assert schema["properties"]["memories"]["items"]["required"] == ["op", "type", "content"]
    prompt = request.messages[-1].text()
    assert "[1] NEW 2024-05-01 09:30 UTC user (Ana): I live in Paris" in prompt
    assert "EXISTING memories:\n(none)" in prompt


async def test_a_changed_fact_supersedes_the_old_one(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    await _paris(runtime, world, model)
    ids = await say(runtime, world, "Big news: I moved to Berlin last week.", "Wow!", JUNE_1)
    model.push(
        memories_reply(
            {"op": "update", "id": "m1", "type": "belief", "content": "The user lives in Berlin"}
        )
    )
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    prompt = model.requests[-1].messages[-1].text()
    assert "[m1] (belief, 2024-05-01 09:30 UTC) The user lives in Paris" in prompt
    rows = {r["content"]: r for r in await memory_rows(runtime, world)}
    assert len(rows) == 3
    paris, berlin = rows["The user lives in Paris"], rows["The user lives in Berlin"]
    assert paris["invalidated_at"] == JUNE_1 and paris["superseded_by"] == berlin["id"]
    assert berlin["invalidated_at"] is None and berlin["valid_from"] == JUNE_1
    valid = await runtime.memory.search(world.dev, world.query("where do they live"))
    assert "The user lives in Paris" not in [r["content"] for r in valid]
    history = await runtime.memory.search(
        world.dev, world.query("where do they live", include_invalidated=True)
    )
    assert {"The user lives in Paris", "The user lives in Berlin"} <= {
        r["content"] for r in history
    }


async def test_repeats_are_not_appended_and_invalidate_closes(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    await _paris(runtime, world, model)
    ids = await say(runtime, world, "Still in Paris! Max ran away, sadly.", "Oh no.", JUNE_1)
    model.push(
        memories_reply(
            {"op": "add", "type": "belief", "content": "The user lives in Paris"},
            {"op": "invalidate", "id": "m2"},
            {"op": "noop", "id": "m1"},
            {"op": "add", "type": "episode", "content": "Max ran away", "sources": [3]},
            {"op": "add", "type": "episode", "content": "Max ran away"},
        )
    )
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    rows = await memory_rows(runtime, world)
    assert [r["content"] for r in rows].count("The user lives in Paris") == 1
    assert [r["content"] for r in rows].count("Max ran away") == 1
    beagle = next(r for r in rows if "beagle" in r["content"])
    assert beagle["invalidated_at"] == JUNE_1 and beagle["superseded_by"] is None
    ran_away = next(r for r in rows if r["content"] == "Max ran away")
    assert ran_away["source_entry_ids"] == [str(ids[0])] and ran_away["timestamp"] == JUNE_1


async def test_unusable_replies_write_nothing_and_the_job_retries(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "I am vegetarian.", "Noted.", MAY_1)
    assert runtime.worker is not None
    runtime.worker.backoff_seconds = 0.0
    good = {"op": "add", "type": "belief", "content": "The user is vegetarian"}
    model.push(
        "Sure! The user is vegetarian.",
        memories_reply(good, {"op": "update", "id": "m9"}),  # half usable: no half write
    )
    job = await run_form_job(runtime, world, ids)
    assert (job["state"], job["attempts"]) == ("retrying", 1)
    assert "not valid JSON" in job["reason"]
    assert await runtime.worker.run_once() is True
    job = await runtime.jobs.get(world.dev, job["id"])
    assert job["state"] == "retrying" and "needs a non-empty 'content'" in job["reason"]
    assert await memory_rows(runtime, world) == []
    model.push("```json\n" + memories_reply(good) + "\n```")
    assert await runtime.worker.run_once() is True
    job = await runtime.jobs.get(world.dev, job["id"])
    assert (job["state"], job["attempts"]) == ("succeeded", 3)
    assert [r["content"] for r in await memory_rows(runtime, world)] == ["The user is vegetarian"]


async def test_every_agent_of_the_session_remembers(
    client: Any, runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    other = (await client.post("/agents", json={"name": "Echo"})).json()["id"]
    agents = [str(world.agent), other]
    r = await client.patch(f"/sessions/{world.session}", json={"agents": agents})
    assert r.status_code == 200
    ids = await say(runtime, world, "My sister is called Lea.", "Nice.", MAY_1)
    reply = memories_reply({"op": "add", "type": "entity", "content": "Lea is the user's sister"})
    model.push(reply, reply)
    rows = await runtime.memory.form(world.dev, world.session, ids)
    assert sorted(str(r["agent_id"]) for r in rows) == sorted(agents)
    assert len(model.requests) == 2
    assert await runtime.memory.form(world.dev, uuid.uuid4(), ids) == []  # no such session


async def test_a_job_run_again_after_its_commit_adds_nothing(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    """A worker that dies between the commit and settling the job: the job runs again (same
    turns, same reply) and its memories are not stored twice."""
    ids = await say(runtime, world, "I teach maths at a high school.", "Great!", MAY_1)
    reply = memories_reply(
        {"op": "add", "type": "belief", "content": "The user teaches maths at a high school"},
        {"op": "add", "type": "episode", "content": "On 2024-05-01 the user talked about work"},
    )
    model.push(reply, reply)
    assert len(await runtime.memory.form(world.dev, world.session, ids)) == 2
    assert await runtime.memory.form(world.dev, world.session, ids) == []
    assert len(await memory_rows(runtime, world)) == 2


def test_a_copied_prompt_example_is_never_a_memory() -> None:
    from sprig.server.memory.prompts import MEMORY_EXAMPLE, parse_memory_ops

    copied = json.dumps(MEMORY_EXAMPLE)
    assert parse_memory_ops(copied, {}) == []
    real = json.dumps({"memories": [{"op": "add", "type": "belief", "content": "Likes oolong"}]})
    assert [op.content for op in parse_memory_ops(real, {})] == ["Likes oolong"]
