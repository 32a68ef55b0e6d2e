"""The blocking generation loop over a loaded `llama_cpp.Llama` (runs in a worker thread).

Sampling settings map to llama.cpp as follows:

| Sprig / Julep        | llama.cpp                  | note                                   |
|----------------------|----------------------------|----------------------------------------|
| temperature          | temp                       | 0 = greedy                             |
| top_p, min_p         | top_p, min_p               |                                        |
| max_tokens           | (loop bound)               | capped to the context left             |
| stop                 | (text scan)                | the stop text is not returned          |
| seed                 | sampler seed               | unset or negative = random             |
| frequency_penalty    | frequency_penalty          |                                        |
| presence_penalty     | presence_penalty           |                                        |
| repetition_penalty   | repeat_penalty             | penalties look back 256 tokens (local.py) |
| logit_bias           | logits processor           | keys must be token ids                 |
| length_penalty       | -                          | ignored: beam search only, llama.cpp samples |

`top_k` stays at llama.cpp's 40. A reply that repeats itself is cut by the loop guard
(`decoding.ReplyText`; `GenerationPlan.loop_guard`).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sprig.server.errors import BadRequestError
from sprig.server.models.base import CompletionChunk, FinishReason, SamplingParams, Usage
from sprig.server.models.decoding import LoopGuard, ReplyText
from sprig.server.models.formats import JsonFormat
from sprig.server.models.threaded import Emit

TOP_K = 40
# JSON with at most one space between tokens: a small model given llama.cpp's stock JSON
# grammar spends its tokens on newlines and indentation and runs out before the object ends.
COMPACT_JSON_GBNF = r"""
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws     ::= | " "
"""


@dataclass(slots=True)
class GenerationPlan:
    prompt: list[int]
    max_tokens: int
    seed: int
    stop: list[str] = field(default_factory=list)
    sampler: dict[str, Any] = field(default_factory=dict)
    loop_guard: bool = True


def sampler_kwargs(params: SamplingParams, grammar: Any | None) -> dict[str, Any]:
    """Keyword arguments of `Llama.generate` for these settings (defaults already merged)."""
    kwargs: dict[str, Any] = {
        "temp": params.temperature if params.temperature is not None else 0.8,
        "top_p": params.top_p if params.top_p is not None else 1.0,
        "min_p": params.min_p if params.min_p is not None else 0.0,
        "top_k": TOP_K,
        "repeat_penalty": _or(params.repetition_penalty, 1.0),
        "frequency_penalty": _or(params.frequency_penalty, 0.0),
        "presence_penalty": _or(params.presence_penalty, 0.0),
        "grammar": grammar,
    }
    if params.logit_bias:
        kwargs["logits_processor"] = _logit_bias_processors(params.logit_bias)
    return kwargs


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _logit_bias_processors(bias: Mapping[str, float]) -> Any:
    import numpy as np
    from llama_cpp import LogitsProcessorList

    try:
        ids = np.array([int(k) for k in bias], dtype=np.intc)
    except ValueError as exc:
        raise BadRequestError("logit_bias keys must be token ids (integers).") from exc
    values = np.array(list(bias.values()), dtype=np.single)

    def add_bias(_input_ids: Any, scores: Any) -> Any:
        out = np.copy(scores)
        valid = ids < len(out)
        out[ids[valid]] += values[valid]
        return out

    return LogitsProcessorList([add_bias])


def json_grammar(fmt: JsonFormat | None) -> Any | None:
    """A llama.cpp grammar for a JSON mode: the schema's, or any compact JSON object."""
    if fmt is None:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    if fmt.schema is not None:
        return LlamaGrammar.from_json_schema(json.dumps(fmt.schema), verbose=False)
    return LlamaGrammar.from_string(COMPACT_JSON_GBNF, verbose=False)


def gbnf_grammar(gbnf: str) -> Any:
    """A llama.cpp grammar from GBNF text (check it first with `grammar_parses`)."""
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)


def grammar_parses(llama: Any, gbnf: str) -> bool:
    """Whether llama.cpp accepts `gbnf` (a grammar it rejects would crash generation)."""
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(
        llama._model.vocab, gbnf.encode("utf-8"), b"root"
    )
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


def make_plan(
    prompt: list[int],
    params: SamplingParams,
    n_ctx: int,
    grammar: Any | None,
    *,
    loop_guard: bool = True,
) -> GenerationPlan:
    room = n_ctx - len(prompt)
    if room <= 0:
        raise BadRequestError(
            f"The prompt has {len(prompt)} tokens; the model's context window is {n_ctx}."
        )
    wanted = params.max_tokens if params.max_tokens and params.max_tokens > 0 else room
    seed = params.seed if params.seed is not None and params.seed >= 0 else secrets.randbits(31)
    return GenerationPlan(
        prompt=prompt,
        max_tokens=min(wanted, room),
        seed=seed,
        stop=list(params.stop or []),
        sampler=sampler_kwargs(params, grammar),
        loop_guard=loop_guard,
    )


def run_generation(
    llama: Any,
    plan: GenerationPlan,
    emit: Emit[CompletionChunk],
    cancel: threading.Event,
) -> None:
    """Generate token by token, emitting text deltas then one final chunk with usage.

    A reply that repeats itself is cut after the first copy (`ReplyText`): finish
    reason ``stop``, stop reason ``repetition``. Returns at once (no final chunk) when
    `cancel` is set.
    """
    import llama_cpp

    llama.set_seed(plan.seed)
    text = ReplyText(llama.detokenize, plan.stop, LoopGuard() if plan.loop_guard else None)
    count, reason = 0, "length"
    tokens = llama.generate(plan.prompt, **plan.sampler)
    try:
        for token in tokens:
            if cancel.is_set():
                return
            if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token):
                reason = "stop"
                break
            count += 1
            if delta := text.feed(token):
                emit(CompletionChunk(content=delta))
            if text.stopped:
                reason = "repetition" if text.looped else "stop"
                break
            if count >= plan.max_tokens:
                break
    finally:
        tokens.close()
    _finish(emit, text, reason, Usage(len(plan.prompt), count))


def _finish(emit: Emit[CompletionChunk], text: ReplyText, reason: str, usage: Usage) -> None:
    if tail := text.flush():
        emit(CompletionChunk(content=tail))
    finish: FinishReason = "length" if reason == "length" else "stop"
    stop_reason = "repetition" if reason == "repetition" else None
    emit(CompletionChunk(finish_reason=finish, usage=usage, stop_reason=stop_reason))
