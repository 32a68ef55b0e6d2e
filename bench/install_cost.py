"""What an install costs: cold install time and environment size per extra, then the time
from ``sprig serve`` start to the first chat reply.

For each extra (default: ``api hosted server``), as a newcomer with an empty pip cache would:
a fresh virtualenv in a temp dir (``python -m venv``, its own pip), then
``pip install --no-cache-dir -e "<clean copy>[<extra>]"``, timed; the size is ``du -sb`` of
the venv. The clean copy is ``git archive HEAD`` in a temp dir, so uncommitted files play no
part. Then, with the venv of ``--serve-extra`` (default ``server``): ``sprig serve`` on a
free port with a new data dir and the default settings (no ``SPRIG_*`` variables), timed to
its first ``/healthz`` answer, then an agent, a session and one chat turn (the bundled model
answers), timed from the start; a second turn is timed apart.

Installs download from the package index and, for ``local``/``server``, compile
llama-cpp-python: minutes, both cores. The load average is printed with each row.

    python bench/install_cost.py [--extras api hosted server] [--serve-extra server]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]


def clean_copy(into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def du_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], check=True, capture_output=True, text=True)
    return int(out.stdout.split()[0])


def install(source: Path, venv: Path, extra: str) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-cache-dir", "-q", "-e", f"{source}[{extra}]"],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"pip install [{extra}] failed:\n{done.stderr[-3000:]}")
    return {
        "extra": extra,
        "seconds": seconds,
        "bytes": du_bytes(venv),
        "load_average": [load, os.getloadavg()[0]],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_serving(api: str, proc: subprocess.Popen[str]) -> None:
    while True:
        try:
            if httpx.get(f"{api}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"sprig serve exited {proc.returncode}")
        time.sleep(0.1)


def chat(client: httpx.Client, session: str, text: str) -> str:
    body = {"messages": [{"role": "user", "content": text}]}
    response = client.post(f"/sessions/{session}/chat", json=body)
    response.raise_for_status()
    return str(response.json()["choices"][0]["message"]["content"])


def first_reply(venv: Path, data: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPRIG_")}
    port = free_port()
    command = [str(venv / "bin" / "sprig"), "serve", "--port", str(port), "--data-dir", str(data)]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True
    )
    api = f"http://127.0.0.1:{port}"
    try:
        wait_serving(api, proc)
        serving = time.perf_counter() - started
        headers = {"Authorization": f"Bearer {(data / 'api_key').read_text().strip()}"}
        with httpx.Client(base_url=api, headers=headers, timeout=300) as client:
            agent = client.post("/agents", json={"name": "Ada"}).json()["id"]
            session = client.post("/sessions", json={"agent": agent}).json()["id"]
            reply = chat(client, session, "What is the capital of France?")
            first = time.perf_counter() - started
            turn = time.perf_counter()
            chat(client, session, "And of Italy?")
            second = time.perf_counter() - turn
    finally:
        proc.terminate()
        proc.wait(60)
    return {"serving_s": serving, "first_reply_s": first, "second_turn_s": second, "reply": reply}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extras", nargs="+", default=["api", "hosted", "server"])
    parser.add_argument("--serve-extra", default="server", help="'' to skip the serve timing")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sprig-install-"))
    try:
        (tmp / "src").mkdir()
        source = clean_copy(tmp / "src")
        rows = []
        for extra in args.extras:
            rows.append(install(source, tmp / f"venv-{extra}", extra))
            print(f"  [{extra}] {rows[-1]['seconds']:.0f} s", file=sys.stderr)
        serve = None
        if args.serve_extra:
            venv = tmp / f"venv-{args.serve_extra}"
            if not venv.exists():
                rows.append(install(source, venv, args.serve_extra))
            serve = first_reply(venv, tmp / "data")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"cold installs (pip install --no-cache-dir -e), {os.cpu_count()} cores")
    print(f"{'extra':10s} {'seconds':>8s} {'MB':>6s} {'load before/after':>18s}")
    for row in rows:
        load = "{:.1f} / {:.1f}".format(*row["load_average"])
        print(f"{row['extra']:10s} {row['seconds']:8.0f} {row['bytes'] / 1e6:6.0f} {load:>18s}")
    if serve is not None:
        print(
            f"sprig serve ({args.serve_extra}): serving after {serve['serving_s']:.1f} s, first "
            f"chat reply after {serve['first_reply_s']:.1f} s, next turn "
            f"{serve['second_turn_s']:.1f} s"
        )
    print(json.dumps({"bench": "install_cost", "installs": rows, "serve": serve}))


if __name__ == "__main__":
    main()
