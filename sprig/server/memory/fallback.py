"""Memories from the user's own words, for when the model's extraction gives nothing usable.

A small model (the bundled SmolLM2-135M) cannot extract facts: held to the JSON schema it
copies the prompt's placeholder example, which is dropped, and nothing would be remembered.
The fallback keeps what the user said about themselves instead: every declarative sentence
of the NEW user messages that speaks in the first person (``I``, ``my``, ``we``, ``our``...)
becomes one memory, quoted, with who said it and when::

    On 2024-05-01 Ana said: "My dog is called Biscuit."

Its type is ``episode``: Julep's episodes are things that happened, with a time, and what
is stored is exactly that (the user said this, then), not a fact the agent distilled and
vouches for (a ``belief``) nor the description of one person or thing (an ``entity``). The
quote keeps the user's words, so nothing is invented, and the attribution keeps "my" from
reading as the agent's own when the memory is recalled into a system prompt.

Skipped: questions (a ``?``, or an opening such as "what", "can", "do"), requests ("tell
me", "please"), greetings and filler ("Hi!", "I'm fine, thanks."), sentences without a
first-person word (not about the user), text with template syntax or placeholders
(``{{ name }}``, ``<your name>``), and sentences over ``MAX_STATEMENT_CHARS``. A lead-in
such as "Hi," or "Please remember that" is cut from a sentence that is otherwise kept.

They are reconciled as the model's memories are (``memory``): one that repeats a stored
memory of the same agent and user (the same words, or a cosine similarity at or over the
duplicate threshold) is not stored again, unless it says it in other words ("I am 31"
after "I am 30": embeddings hardly tell such statements apart, and the newer one holds);
then it supersedes the old one.

``FallbackMode`` (the ``SPRIG_MEMORY_FALLBACK`` setting): ``auto`` uses these memories only
when the model's reply has no usable operation, so a model that extracts well is not
changed; ``always`` adds them to the model's (the duplicate safety net of ``memory`` drops
the ones the model already said); ``only`` keeps them and does not ask the model at all (a
model that cannot extract, such as the bundled one, costs seconds of generation per turn
for nothing); ``never`` turns the fallback off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal
from uuid import UUID

from sprig.server.chat.window import entry_message
from sprig.server.memory.prompts import MemoryOp, is_degenerate, is_placeholder
from sprig.server.search.fts import ENGLISH_STOPWORDS
from sprig.server.store.crud import Row

FallbackMode = Literal["auto", "always", "only", "never"]

MAX_STATEMENTS = 8  # new ones per formation, as the model's answer (MEMORY_SCHEMA maxItems)
MAX_STATEMENT_CHARS = 300
MIN_WORDS = 3

_STAMP = re.compile(r"^On \d{4}-\d{2}-\d{2} ")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")  # words: letters, maybe an apostrophe
_TOKEN = re.compile(r"\w+")  # words and numbers
_LEAD_IN = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening)|oh|ah|"
    r"ok|okay|so|well|yes|yeah|also|btw|by the way|fyi|just so you know|"
    r"(?:please )?(?:remember|note|keep in mind)(?: that)?)(?: there)?(?=[\s,;:.!]|$)"
    r"[\s,;:.!-]*)+",
    re.IGNORECASE,
)
_FIRST_PERSON = "i i'm im i've i'd i'll my mine myself we we're we've we'd we'll our ours ourselves"
_OPENERS = """what who whom whose where when why how which can could would will shall should may
might must do does did is are was were am have has had isn't aren't don't doesn't didn't won't
can't couldn't wouldn't shouldn't please tell give show explain write list describe help find
make let let's translate summarize summarise"""
_FILLER = """fine good great well ok okay thanks thank cheers sure cool nice yes yeah yep no nope
lol haha hello hi hey bye goodbye sorry alright right really glad happy doing"""
FIRST_PERSON = frozenset(_FIRST_PERSON.split())
OPENERS = frozenset(_OPENERS.split())  # a question or a request, not a statement
FILLER = frozenset(_FILLER.split())  # words that say nothing about the user
_EMPTY = ENGLISH_STOPWORDS | FILLER | FIRST_PERSON


def _words(sentence: str) -> list[str]:
    return _WORD.findall(sentence.lower().replace("\u2019", "'"))


def _quoted(content: str) -> tuple[str, ...]:
    """What a memory says, date aside: its words and numbers, lower-cased."""
    text = _STAMP.sub("", content).lower().replace("\u2019", "'")
    return tuple(_TOKEN.findall(text))


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (after ``.``, ``!``, ``?``, ``…`` and at line breaks)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def _without_lead_in(sentence: str) -> str:
    rest = _LEAD_IN.sub("", sentence).strip()
    return rest[:1].upper() + rest[1:] if rest and rest != sentence else rest


def is_statement(sentence: str) -> bool:
    """A declarative sentence in which the user speaks about themselves (see the module)."""
    words = _words(sentence)
    if len(words) < MIN_WORDS or len(sentence) > MAX_STATEMENT_CHARS:
        return False
    if sentence.rstrip().endswith("?") or words[0] in OPENERS:
        return False
    if is_placeholder(sentence) or is_degenerate(sentence):
        return False
    if not FIRST_PERSON & set(words):
        return False
    return any(w not in _EMPTY for w in words)


def statements(text: str) -> list[str]:
    """The sentences of a user message worth keeping, lead-ins cut, in order."""
    kept = (_without_lead_in(s) for s in sentences(text))
    return [s for s in kept if s and is_statement(s)]


def _names(sentence: str) -> list[dict[str, str]]:
    """Capitalised words and runs of them after the first word: names ("Biscuit", "New
    York"); "I" and its contractions are not names."""
    words = sentence.replace("\u2019", "'").split()[1:]
    runs: list[list[str]] = [[]]
    for word in words:
        bare = word.strip(".,;:!?\"'()[]")
        if bare[:1].isupper() and bare.split("'")[0] != "I":
            runs[-1].append(bare.removesuffix("'s"))
        elif runs[-1]:
            runs.append([])
        if bare != word.strip("\"'()[]") and runs[-1]:
            runs.append([])  # punctuation ends a name
    names = [" ".join(run) for run in runs if run]
    return [{"name": name} for name in dict.fromkeys(names)]


def _speaker(entry: Row, user: Row | None) -> str:
    name = str(entry.get("name") or (user or {}).get("name") or "").strip()
    return name or "the user"


def statement_ops(entries: list[Row], new_ids: set[UUID], user: Row | None) -> list[MemoryOp]:
    """One ``add`` of an ``episode`` per statement of the NEW user messages, citing the
    message it comes from (``sources`` numbers from 1, as the model's)."""
    ops: list[MemoryOp] = []
    for number, entry in enumerate(entries, start=1):
        if entry["id"] not in new_ids or entry["role"] != "user":
            continue
        stamp = entry["timestamp"].strftime("%Y-%m-%d")
        for sentence in statements(entry_message(entry).text()):
            content = f'On {stamp} {_speaker(entry, user)} said: "{sentence}"'
            names = _names(sentence)
            ops.append(MemoryOp("add", None, "episode", content, names, None, [number], True))
    return ops


def same_statement(a: str, b: str) -> bool:
    """Two memories say the same words (case, punctuation and the date aside)."""
    return _quoted(a) == _quoted(b)


def unsaid(ops: list[MemoryOp], known: Sequence[Row]) -> list[MemoryOp]:
    """``ops`` without those saying the same words as a known memory or an earlier op (a
    repeat on another day differs only in its date: no embedding needs to tell), at most
    ``MAX_STATEMENTS``."""
    said = {_quoted(str(row["content"])) for row in known}
    kept: list[MemoryOp] = []
    for op in ops:
        if (words := _quoted(op.content)) not in said:
            said.add(words)
            kept.append(op)
    return kept[:MAX_STATEMENTS]


def combine(
    mode: FallbackMode, extracted: Sequence[MemoryOp], fallback: Sequence[MemoryOp]
) -> list[MemoryOp]:
    """The operations a formation applies: the model's, with the fallback's per ``mode``."""
    if mode in ("always", "only") or (mode == "auto" and not extracted):
        return [*extracted, *fallback]
    return list(extracted)
