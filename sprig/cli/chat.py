"""`sprig chat`: talk to an agent in the terminal, replies streamed as they are generated.

Uses Sprig's own SDK only (no server code). The key comes from ``--api-key``,
``SPRIG_API_KEY`` or the ``api_key`` file of the data directory that `sprig serve` wrote.
Replies go to standard output; the prompt, the reply labels and messages to standard error.
While a reply streams, what is typed is not echoed and is discarded; Ctrl-C stops the reply
(the server keeps what was generated, marked partial) and the conversation goes on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape

from sprig.cli.common import DEFAULT_URL, ApiKey, KeyDir, Url, api_key_from, resolve_agent

if TYPE_CHECKING:
    from sprig.client import ChatStream, Client
    from sprig.client.types import Agent, DocReference, Entry

console = Console(stderr=True, soft_wrap=True)
DEFAULT_NAME, DEFAULT_ABOUT = "Sprig", "A helpful, concise assistant."
DEFAULT_MARK = {"sprig_cli_default": True}
QUIT = {"/exit", "/quit", ":q"}
RESUME_TURNS = 6  # messages shown when a session is resumed
SAVE_WAIT = 3.0  # seconds to wait for the server to save a stopped reply
HELP = """\
[bold]/help[/bold]     this list
[bold]/new[/bold]      a new session with the same agent
[bold]/history[/bold]  the messages of this session
[bold]/docs[/bold]     the documents recalled for the last reply, with their scores
[bold]/exit[/bold]     leave (Ctrl-D, or Ctrl-C at the prompt, too)
Ctrl-C while a reply streams stops it; the partial reply stays in the session.
What you type while a reply streams is ignored. To send a line starting with /, type //."""


@dataclass
class Chat:
    """One terminal conversation: the session, its agent, the last reply's documents."""

    client: Client
    agent: Agent
    session_id: str
    last_docs: list[DocReference] | None = None  # None: no reply yet in this run

    @property
    def name(self) -> str:
        return f"[bold]{escape(self.agent.name or 'the agent')}[/bold]"

    @property
    def label(self) -> str:
        return f"[bold cyan]{escape(self.agent.name or 'agent')}>[/bold cyan]"


@dataclass
class Reply:
    id: str | None = None
    text: str = ""
    finish: str | None = None
    docs: list[DocReference] = field(default_factory=list)


def chat(
    agent: Annotated[
        str | None,
        typer.Option(metavar="NAME|ID", help="Agent name or id (default: Sprig's own)."),
    ] = None,
    session: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Resume this session: shows its agent and last turns."),
    ] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    data_dir: KeyDir = None,
) -> None:
    """Chat with an agent in the terminal. Type /help for commands, /exit (or Ctrl-D) to
    leave; Ctrl-C stops a reply."""
    from sprig.client import Client
    from sprig.client.errors import JulepError

    with Client(api_key=api_key_from(api_key, data_dir), base_url=url) as client:
        try:
            state = _resume(client, session, agent) if session else _begin(client, agent)
        except JulepError as err:
            console.print(f"[red]{escape(str(err))}[/red]")
            raise typer.Exit(1) from err
        _loop(state)


def _default_agent(client: Client) -> Agent:
    existing = client.agents.list(limit=1, metadata_filter=DEFAULT_MARK)
    if existing:
        return existing[0]
    created = client.agents.create(name=DEFAULT_NAME, about=DEFAULT_ABOUT, metadata=DEFAULT_MARK)
    console.print(f"Created the default agent [bold]{created.name}[/bold] ({created.id}).")
    return created


def _begin(client: Client, wanted: str | None) -> Chat:
    agent = resolve_agent(client, wanted) if wanted else _default_agent(client)
    state = Chat(client, agent, "")
    _new_session(state)
    return state


def _new_session(state: Chat) -> None:
    created = state.client.sessions.create(agent_id=state.agent.id)
    state.session_id, state.last_docs = str(created.id), None
    console.print(
        f"Chatting with {state.name} in session {created.id} "
        f"(resume with --session {created.id}). /help lists the commands, /exit leaves."
    )


def _resume(client: Client, session_id: str, wanted: str | None) -> Chat:
    """The session's agent (or ``wanted``, which must be one of its agents), then the last
    turns, so the conversation picks up where it was."""
    found = client.sessions.get(session_id)
    members = [str(a) for a in found.agents] or ([str(found.agent_id)] if found.agent_id else [])
    if not members:
        console.print(f"[red]Session {found.id} has no agent to talk to.[/red]")
        raise typer.Exit(1)
    agent = resolve_agent(client, wanted) if wanted else client.agents.get(members[0])
    if str(agent.id) not in members:
        console.print(f"[red]Agent {escape(wanted or '')} is not in session {found.id}.[/red]")
        raise typer.Exit(1)
    state = Chat(client, agent, str(found.id))
    console.print(f"Resumed session {found.id} with {state.name} ({agent.id}).")
    _show_turns(state, last=RESUME_TURNS)
    return state


def _loop(state: Chat) -> None:
    interactive = sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (line editing and ↑ history for input())
    while True:
        try:
            line = console.input("[bold green]you>[/bold green] ") if interactive else input()
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        text = line.strip()
        if text in QUIT:
            break
        if text.startswith("/") and not text.startswith("//"):
            _command(state, text)
        elif text:
            _turn(state, line.lstrip().removeprefix("/") if text.startswith("//") else line)
    console.print(f"Session {state.session_id} (resume with --session {state.session_id}).")


def _command(state: Chat, text: str) -> None:
    from sprig.client.errors import JulepError

    name = text.split()[0]
    action = COMMANDS.get(name)
    if action is None:
        console.print(f"Unknown command {escape(name)}. /help lists the commands.")
        return
    try:
        action(state)
    except JulepError as err:
        console.print(f"[red]{escape(str(err))}[/red]")
    except KeyboardInterrupt:
        console.print("[dim](interrupted)[/dim]")


def _help(state: Chat) -> None:
    console.print(HELP)


def _history(state: Chat) -> None:
    _show_turns(state, last=None)


def _docs(state: Chat) -> None:
    if state.last_docs is None:
        console.print("No reply yet in this chat.")
    elif not state.last_docs:
        console.print("No documents were recalled for the last reply.")
    else:
        from rich.table import Table

        table = Table("#", "score", "title", "document id", "source")
        for rank, doc in enumerate(state.last_docs, 1):
            score = "" if doc.score is None else f"{doc.score:.3f}"
            source = str((doc.metadata or {}).get("source", ""))
            table.add_row(str(rank), score, escape(doc.title or ""), doc.id, escape(source))
        console.print(table)


COMMANDS: dict[str, Callable[[Chat], None]] = {
    "/help": _help,
    "/new": _new_session,
    "/history": _history,
    "/docs": _docs,
}


def _show_turns(state: Chat, last: int | None) -> None:
    """The session's messages (the ``last`` few, or all), each after its speaker's label."""
    entries = [e for e in state.client.sessions.history(state.session_id).entries if _shown(e)]
    if not entries:
        console.print("[dim](no messages yet)[/dim]")
        return
    if last is not None and len(entries) > last:
        earlier = len(entries) - last
        console.print(f"[dim]… {earlier} earlier message(s); /history shows them all.[/dim]")
        entries = entries[-last:]
    for entry in entries:
        console.print(_entry_line(state, entry))


def _shown(entry: Entry) -> bool:
    return entry.role in ("user", "assistant") and bool(_text(entry.content).strip())


def _entry_line(state: Chat, entry: Entry) -> str:
    label = "[bold green]you>[/bold green]" if entry.role == "user" else state.label
    stopped = " [dim](stopped)[/dim]" if (entry.model_extra or {}).get("partial") else ""
    return f"{label} {escape(_text(entry.content))}{stopped}"


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)
    return ""


def _turn(state: Chat, text: str) -> None:
    """Send ``text``; stream the reply after the agent's label. Input is held meanwhile;
    Ctrl-C stops the reply; an error is shown and the conversation goes on."""
    from sprig.client.errors import JulepError

    reply, held = Reply(), _Held()
    console.print(state.label, end=" ")
    try:
        with _held_input(held):
            _stream(state, text, reply)
    except KeyboardInterrupt:
        print(flush=True)
        _stopped(state, reply)
    except JulepError as err:
        print(flush=True)
        console.print(f"[red]{escape(str(err))}[/red]")
    else:
        print(flush=True)
        if reply.finish not in (None, "stop"):
            console.print(f"[dim](the reply ended: {reply.finish})[/dim]")
    if held.discarded:
        console.print("[dim](what you typed during the reply was ignored)[/dim]")


def _stream(state: Chat, text: str, reply: Reply) -> None:
    stream = state.client.sessions.chat(
        state.session_id,
        messages=[{"role": "user", "content": text}],
        stream=True,
        agent=state.agent.id,
    )
    state.last_docs = reply.docs
    with cast("ChatStream", stream) as chunks:  # stream=True: a ChatStream
        for chunk in chunks:
            reply.id = reply.id or chunk.id
            reply.docs.extend(chunk.docs)
            if chunk.choices and chunk.choices[0].finish_reason:
                reply.finish = chunk.choices[0].finish_reason
            reply.text += chunk.text
            print(chunk.text, end="", flush=True)


def _stopped(state: Chat, reply: Reply) -> None:
    """Say what a Ctrl-C left in the session: the server saves the partial reply (with the
    message that asked for it) when it sees the client go, or nothing if nothing was said."""
    saved = reply.id is not None and _wait_saved(state, reply.id, SAVE_WAIT if reply.text else 0.5)
    if saved:
        console.print("[yellow]Stopped. The partial reply is kept in the session.[/yellow]")
    elif reply.text:
        console.print("[yellow]Stopped. The partial reply is not saved yet (/history).[/yellow]")
    else:
        console.print("[yellow]Stopped before the reply began; nothing was kept.[/yellow]")


def _wait_saved(state: Chat, reply_id: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    try:
        while True:
            entries = state.client.sessions.history(state.session_id).entries
            if any(e.id == reply_id for e in entries):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
    except KeyboardInterrupt:
        return False


@dataclass
class _Held:
    discarded: bool = False


@contextlib.contextmanager
def _held_input(held: _Held) -> Iterator[None]:
    """While a reply streams on a terminal: keys are not echoed, and what was typed is
    dropped at the end (Ctrl-C still interrupts: signals stay on)."""
    try:
        import termios

        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd) if os.isatty(fd) else None
    except (ImportError, OSError, ValueError):  # no termios, or stdin closed
        saved = None
    if saved is None:
        yield
        return
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~(termios.ECHO | termios.ICANON)
    termios.tcsetattr(fd, termios.TCSANOW, quiet)
    try:
        yield
    finally:
        held.discarded = _pending(fd)
        termios.tcflush(fd, termios.TCIFLUSH)
        termios.tcsetattr(fd, termios.TCSANOW, saved)


def _pending(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])
