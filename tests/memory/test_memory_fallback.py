"""The memory fallback: when the model extracts nothing usable (the bundled small model
copies the prompt's placeholder example), the user's own first-person statements become
quoted episodes; questions, filler and templates are not kept; repeats are not stored twice;
a model that extracts is not changed (``SPRIG_MEMORY_FALLBACK``: auto, always, only, never)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sprig.server.memory.fallback import statements
from sprig.server.memory.prompts import (
    MEMORY_EXAMPLE,
    is_degenerate,
    is_placeholder,
    parse_memory_ops,
)
from sprig.server.models.local import LocalLlamaModel
from sprig.server.models.scripted import ScriptedModel
from sprig.server.runtime import Runtime
from tests.helpers.memory import World, memories_reply, memory_rows, run_form_job, say

MAY_1 = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
JUNE_1 = datetime(2024, 6, 1, 18, 0, tzinfo=UTC)
PARROTED = json.dumps(MEMORY_EXAMPLE)  # what SmolLM2-135M answers, held to the schema
BISCUIT = 'On 2024-05-01 Ana said: "My dog is called Biscuit and she is a corgi."'


@pytest.mark.parametrize("reply", [PARROTED, memories_reply()], ids=["parroted", "empty"])
async def test_nothing_usable_keeps_the_users_statements_as_episodes(
    runtime: Runtime, world: World, model: ScriptedModel, reply: str
) -> None:
    text = "Hi! My dog is called Biscuit and she is a corgi. What should I feed her?"
    ids = await say(runtime, world, text, "I think kibble is fine for my friend.", MAY_1)
    model.push(reply)
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    rows = await memory_rows(runtime, world)
    assert [(r["type"], r["content"]) for r in rows] == [("episode", BISCUIT)]
    (row,) = rows
    assert row["source_entry_ids"] == [str(ids[0])]  # the user's message, not the reply
    assert (row["agent_id"], row["user_id"], row["session_id"]) == (
        world.agent,
        world.user,
        world.session,
    )
    assert row["timestamp"] == MAY_1 and row["invalidated_at"] is None
    assert row["entities"] == [{"name": "Biscuit"}]
    assert len(row["embedding"]) == 384 * 4
    found = await runtime.memory.search(world.dev, world.query("dog's name"))
    assert found[0]["content"] == BISCUIT


async def test_questions_greetings_filler_and_templates_are_not_kept(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    text = (
        "Hello! How are you? I'm fine, thanks. Can you tell me a joke\n"
        "My name is {{ user.name }}. The weather is nice today. Tell me about my week."
    )
    ids = await say(runtime, world, text, "I am an assistant and I love jokes.", MAY_1)
    model.push(PARROTED)
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    assert await memory_rows(runtime, world) == []


async def test_a_restated_fact_is_not_stored_twice(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    first = await say(runtime, world, "My dog is called Biscuit.", "Cute!", MAY_1)
    model.push(PARROTED)
    assert (await run_form_job(runtime, world, first))["state"] == "succeeded"
    again = await say(runtime, world, "Hey, my dog is called Biscuit!", "I know.", JUNE_1)
    model.push(PARROTED, PARROTED)
    assert (await run_form_job(runtime, world, again))["state"] == "succeeded"
    assert await runtime.memory.form(world.dev, world.session, first) == []  # a job run again
    rows = await memory_rows(runtime, world)
    assert [r["content"] for r in rows] == ['On 2024-05-01 Ana said: "My dog is called Biscuit."']
    assert rows[0]["invalidated_at"] is None


async def test_a_near_twin_in_other_words_supersedes_the_older_statement(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    runtime.memory.duplicate_similarity = 0.8  # the test embedder is no sentence model
    first = await say(runtime, world, "I am 30 years old.", "Nice.", MAY_1)
    model.push(PARROTED)
    assert (await run_form_job(runtime, world, first))["state"] == "succeeded"
    later = await say(runtime, world, "I am 31 years old.", "Happy birthday!", JUNE_1)
    model.push(PARROTED)
    assert (await run_form_job(runtime, world, later))["state"] == "succeeded"
    old, new = await memory_rows(runtime, world)
    assert old["content"] == 'On 2024-05-01 Ana said: "I am 30 years old."'
    assert new["content"] == 'On 2024-06-01 Ana said: "I am 31 years old."'
    assert (old["invalidated_at"], old["superseded_by"]) == (JUNE_1, new["id"])
    assert new["invalidated_at"] is None and new["source_entry_ids"] == [str(later[0])]
    valid = await runtime.memory.search(world.dev, world.query("how old"))
    assert [r["content"] for r in valid] == [new["content"]]


async def test_a_model_that_extracts_is_not_changed(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "I am vegetarian.", "Noted.", MAY_1)
    model.push(memories_reply({"op": "add", "type": "belief", "content": "Ana is vegetarian"}))
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    rows = await memory_rows(runtime, world)
    assert [(r["type"], r["content"]) for r in rows] == [("belief", "Ana is vegetarian")]


async def test_always_adds_the_statements_to_the_models_memories(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "I am vegetarian. I live in Lisbon.", "Noted.", MAY_1)
    model.push(memories_reply({"op": "add", "type": "belief", "content": "Ana is vegetarian"}))
    rows = await runtime.memory.form(world.dev, world.session, ids, fallback="always")
    assert [r["content"] for r in rows] == [
        "Ana is vegetarian",
        'On 2024-05-01 Ana said: "I am vegetarian."',
        'On 2024-05-01 Ana said: "I live in Lisbon."',
    ]


async def test_only_keeps_the_statements_without_asking_the_model(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "I am vegetarian.", "Noted.", MAY_1)
    asked = len(model.requests)
    rows = await runtime.memory.form(world.dev, world.session, ids, fallback="only")
    assert [r["content"] for r in rows] == ['On 2024-05-01 Ana said: "I am vegetarian."']
    assert len(model.requests) == asked


async def test_auto_does_not_ask_a_model_that_cannot_extract(
    runtime: Runtime, world: World, model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScriptedModel, "extracts_memories", property(lambda _: False))
    ids = await say(runtime, world, "I am vegetarian.", "Noted.", MAY_1)
    asked = len(model.requests)
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    assert len(model.requests) == asked  # no extraction call: the model's time is spared
    rows = await memory_rows(runtime, world)
    assert [r["content"] for r in rows] == ['On 2024-05-01 Ana said: "I am vegetarian."']
    runtime.settings.memory_fallback = "always"  # asked for explicitly: the model is asked
    model.push(memories_reply())
    later = await say(runtime, world, "I live in Lisbon.", "Nice.", JUNE_1)
    assert (await run_form_job(runtime, world, later))["state"] == "succeeded"
    assert len(model.requests) == asked + 1


def test_only_the_bundled_local_model_declines_extraction(tmp_path: Path) -> None:
    bundled, other = LocalLlamaModel(), LocalLlamaModel(model_path=tmp_path / "bigger.gguf")
    try:
        assert bundled.extracts_memories is False  # SmolLM2-135M parrots the example
        assert other.extracts_memories is True
    finally:
        bundled.close()
        other.close()


async def test_never_is_read_from_the_settings_by_the_job(
    runtime: Runtime, world: World, model: ScriptedModel
) -> None:
    ids = await say(runtime, world, "My dog is called Biscuit.", "Cute!", MAY_1)
    runtime.settings.memory_fallback = "never"
    model.push(PARROTED)
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    assert await memory_rows(runtime, world) == []
    runtime.settings.memory_fallback = "auto"
    model.push(PARROTED)
    assert (await run_form_job(runtime, world, ids))["state"] == "succeeded"
    assert len(await memory_rows(runtime, world)) == 1


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "I live in Paris. I work as a nurse. Do you like Paris?",
            ["I live in Paris.", "I work as a nurse."],
        ),
        ("Please remember that my sister Lea lives in Lyon.", ["My sister Lea lives in Lyon."]),
        ("Yes, I have two kids", ["I have two kids"]),
        ("I\u2019m allergic to peanuts", ["I\u2019m allergic to peanuts"]),
        ("What is my name", []),
        ("Could you write me a poem.", []),
        ("Thanks! I'm doing well.", []),
        ("Paris is lovely in May.", []),  # not about the user
        ("My name is <your name>.", []),
        ("I " + "really " * 60 + "like tea.", []),  # too long to be one fact
    ],
)
def test_which_sentences_are_statements(text: str, kept: list[str]) -> None:
    assert statements(text) == kept


LOOP = "<the corrected fact about the user, " + "updated by the user's AI agent, " * 8


def test_copied_examples_and_loops_are_not_memories() -> None:
    """Replies seen from SmolLM2-135M held to MEMORY_SCHEMA."""
    for text in ("<the corrected fact>", "Name: <the user's name>", "Hi {{ user }}", LOOP):
        assert is_placeholder(text) or is_degenerate(text), text
    for text in ("The user codes <div> layouts", "Mail <ana@example.com>", "2 < 3 and 4 > 1"):
        assert not is_placeholder(text), text
    fact = "The user's daughter's friend is the user's neighbour and the user's colleague"
    assert not is_degenerate(fact)
    reply = memories_reply({"op": "add", "content": LOOP}, {"op": "add", "content": fact})
    assert [op.content for op in parse_memory_ops(reply, {})] == [fact]
