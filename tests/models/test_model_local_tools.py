"""Tool calling with the real bundled SmolLM2-135M: grammar-constrained JSON answers.

Generations are greedy and short (max_tokens <= 64); the pure parts (tool_choice, reading
an answer back) are tested without the model.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jsonschema
import pytest

from sprig.server.errors import BadRequestError
from sprig.server.models.base import (
    ChatMessage,
    Completion,
    CompletionRequest,
    SamplingParams,
    ToolChoice,
    ToolSpec,
    Usage,
)
from sprig.server.models.decoding import json_string_prefix
from sprig.server.models.errors import InvalidModelOutputError
from sprig.server.models.llama_runner import grammar_parses
from sprig.server.models.local import LocalLlamaModel
from sprig.server.models.local_tools import read_answer, tool_gbnf, tool_mode

GREEDY = SamplingParams(temperature=0.0, max_tokens=64)
WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather in a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["c", "f"]},
        },
        "required": ["city"],
        "additionalProperties": False,
    },
)
ADD = ToolSpec(
    "add",
    "Add two numbers.",
    {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
)
TOOLS = {t.name: t for t in (WEATHER, ADD)}
SYSTEM = ChatMessage("system", "You are a helpful assistant.")


def ask(
    question: str,
    choice: ToolChoice | None,
    tools: tuple[ToolSpec, ...] = (WEATHER, ADD),
    sampling: SamplingParams = GREEDY,
) -> CompletionRequest:
    messages = [SYSTEM, ChatMessage("user", question)]
    return CompletionRequest(messages, sampling, tools=list(tools), tool_choice=choice)


def assert_valid_call(done: Completion, tools: dict[str, ToolSpec] = TOOLS) -> dict[str, Any]:
    assert (done.finish_reason, done.content) == ("tool_calls", "")
    [call] = done.tool_calls
    assert call.id.startswith("call_") and len(call.id) > 10 and call.name in tools
    arguments: dict[str, Any] = json.loads(call.arguments)
    jsonschema.validate(arguments, tools[call.name].parameters)
    return arguments


async def test_required_gives_a_valid_call(local_model: LocalLlamaModel) -> None:
    done = await local_model.complete(ask("What is 2 plus 3?", "required"))
    assert_valid_call(done)
    assert 0 < done.usage.completion_tokens <= 64


async def test_a_named_tool_is_the_one_called(local_model: LocalLlamaModel) -> None:
    named = {"type": "function", "function": {"name": "add"}}
    done = await local_model.complete(ask("What is the weather in Paris?", named))
    assert_valid_call(done)
    assert done.tool_calls[0].name == "add"  # forced, though the question is about weather


async def test_the_julep_named_shape_is_accepted(local_model: LocalLlamaModel) -> None:
    done = await local_model.complete(
        ask("What is 2 plus 3?", {"function": {"name": "get_weather"}})
    )
    assert assert_valid_call(done).keys() >= {"city"}


async def test_none_gives_plain_text_with_the_plain_prompt(local_model: LocalLlamaModel) -> None:
    none, plain = ask("What is 2 plus 3?", "none"), ask("What is 2 plus 3?", None, tools=())
    assert local_model.prompt_messages(none) == local_model.prompt_messages(plain)
    # the same prompt, unconstrained; a reply's last bits may differ with what the KV cache
    # held before (llama.cpp reuses a shared prefix), so two replies are not compared
    done = await local_model.complete(none)
    assert done.tool_calls == [] and done.finish_reason in {"stop", "length"}
    assert done.content.strip() and done.usage.prompt_tokens == (
        local_model.count_message_tokens(local_model.prompt_messages(plain))
    )


@pytest.mark.parametrize("question", ["What is the weather in Paris?", "Hello! Who wrote Hamlet?"])
async def test_auto_gives_a_valid_call_or_a_reply(
    local_model: LocalLlamaModel, question: str
) -> None:
    done = await local_model.complete(ask(question, "auto"))
    if done.tool_calls:
        assert_valid_call(done)
    else:
        assert done.content.strip() and done.finish_reason in {"stop", "length"}


async def test_prompt_tokens_include_the_tool_description(local_model: LocalLlamaModel) -> None:
    request = ask("What is 2 plus 3?", "auto")
    prompt = local_model.prompt_messages(request)
    assert "get_weather(city: string" in prompt[0].text() and prompt[1:] == request.messages[1:]
    done = await local_model.complete(request)
    assert done.usage.prompt_tokens == local_model.count_message_tokens(prompt)
    assert done.usage.prompt_tokens > local_model.count_message_tokens(request.messages) + 40


async def test_streaming_required_ends_with_the_call(local_model: LocalLlamaModel) -> None:
    chunks = [c async for c in local_model.stream(ask("What is 2 plus 3?", "required"))]
    *head, last = chunks
    assert all(not c.tool_calls and c.finish_reason is None for c in head)
    assert last.finish_reason == "tool_calls" and last.usage is not None
    done = Completion("".join(c.content for c in chunks), last.tool_calls, "tool_calls")
    assert_valid_call(done)


async def test_a_call_cut_by_max_tokens_is_a_clear_error(local_model: LocalLlamaModel) -> None:
    short = SamplingParams(temperature=0.0, max_tokens=6)  # too few for {"tool": ..., ...}
    with pytest.raises(InvalidModelOutputError, match=r"max_tokens.*tool-call JSON"):
        await local_model.complete(ask("What is 2 plus 3?", "required", sampling=short))


async def test_a_schema_the_converter_rejects_gets_free_arguments(
    local_model: LocalLlamaModel,
) -> None:
    odd = ToolSpec("odd", "Do it.", {"type": "object", "properties": {"x": {"type": "weird"}}})
    llama = local_model.load().llama
    mode = tool_mode([odd], "required")
    assert mode is not None
    gbnf = tool_gbnf(mode, lambda g: grammar_parses(llama, g))
    assert "weird" not in gbnf and grammar_parses(llama, gbnf)
    done = await local_model.complete(ask("Do it.", "required", tools=(odd,)))
    assert isinstance(json.loads(done.tool_calls[0].arguments), dict)


async def test_local_refs_in_a_tool_schema_are_followed(local_model: LocalLlamaModel) -> None:
    schema = {
        "type": "object",
        "$defs": {"unit": {"type": "string", "enum": ["c", "f"]}},
        "properties": {"city": {"type": "string"}, "unit": {"$ref": "#/$defs/unit"}},
        "required": ["city", "unit"],
    }
    tool = ToolSpec("weather", "Weather in a city.", schema)
    done = await local_model.complete(ask("Weather in Rome?", "required", tools=(WEATHER, tool)))
    assert_valid_call(done, {"get_weather": WEATHER, "weather": tool})


def _endless_string_bias(model: LocalLlamaModel) -> dict[str, float]:
    """No token may close a JSON string (only the lone quote may open one), and " the" is
    strongly preferred inside strings: the answer never ends by itself."""
    llama = model.load().llama
    quote = llama.tokenize(b'"', add_bos=False, special=False)[0]
    the = llama.tokenize(b" the", add_bos=False, special=False)[0]
    quotes = [i for i in range(llama.n_vocab()) if b'"' in llama.detokenize([i]) and i != quote]
    return {**{str(i): -100.0 for i in quotes}, str(the): 100.0, str(quote): -50.0}


async def test_cancelling_a_tool_stream_stops_generation(local_model: LocalLlamaModel) -> None:
    endless = SamplingParams(
        temperature=0.0, max_tokens=1500, logit_bias=_endless_string_bias(local_model)
    )
    named = {"function": {"name": "get_weather"}}  # its `city` string never closes
    request = ask("Say hello.", named, sampling=endless)
    task = asyncio.create_task(local_model.complete(request))
    await asyncio.sleep(0.5)
    assert not task.done()
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 1.0
    queued = time.perf_counter()
    await local_model.warm_up()  # runs at once: the worker is idle again
    assert time.perf_counter() - queued < 0.25


# --- without the model ------------------------------------------------------------------


def test_tool_choice_words_and_names() -> None:
    assert tool_mode([], "required") is None
    assert tool_mode([ADD], "none") is None
    assert tool_mode([ADD, WEATHER], None) == tool_mode([ADD, WEATHER], "auto")
    mode = tool_mode([ADD, WEATHER], "auto")
    assert mode is not None and not mode.forced and len(mode.tools) == 2
    forced = tool_mode([ADD, WEATHER], "required")
    assert forced is not None and forced.forced
    named = tool_mode([ADD, WEATHER], {"type": "function", "function": {"name": "add"}})
    assert named is not None and named.forced and named.tools == (ADD,)
    with pytest.raises(BadRequestError, match="'nope'"):
        tool_mode([ADD], {"function": {"name": "nope"}})
    with pytest.raises(BadRequestError, match="tool_choice"):
        tool_mode([ADD], "sometimes")


def _raw(text: str, reason: str = "stop") -> Completion:
    return Completion(text, finish_reason=reason, usage=Usage(10, 5))  # type: ignore[arg-type]


def test_reading_answers_back() -> None:
    call = read_answer(_raw('{"tool": "add", "arguments": {"a": 1, "b": 2}}'), "m")
    assert call.finish_reason == "tool_calls" and call.usage == Usage(10, 5)
    assert json.loads(call.tool_calls[0].arguments) == {"a": 1, "b": 2}
    reply = read_answer(_raw('{"content": "Hi\nthere"} '), "m")
    assert (reply.content, reply.tool_calls, reply.finish_reason) == ("Hi\nthere", [], "stop")
    cut = read_answer(_raw('{ "content": "Hello \\"you\\" \\u00e9\\u00', "length"), "m")
    assert (cut.content, cut.finish_reason) == ('Hello "you" é', "length")
    with pytest.raises(InvalidModelOutputError, match="max_tokens"):
        read_answer(_raw('{"tool": "add", "argu', "length"), "m")
    with pytest.raises(InvalidModelOutputError, match="stopped before"):
        read_answer(_raw('{"tool": "add"', "stop"), "m")


def test_json_string_prefix_drops_a_cut_escape() -> None:
    assert json_string_prefix("plain") == "plain"
    assert json_string_prefix("a\\") == "a"
    assert json_string_prefix("a\\\\") == "a\\"
    assert json_string_prefix("a\\\\\\") == "a\\"
    assert json_string_prefix("a\\u00e") == "a"
    assert json_string_prefix("a\\u00e9") == "aé"
