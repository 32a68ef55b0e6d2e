"""`sprig worker`: run background jobs in a separate process (same database as the servers)."""

from __future__ import annotations

import contextlib
import logging

import typer

from sprig.cli.common import DataDir, load_settings
from sprig.cli.startup import check_store, plain_problems


def worker(data_dir: DataDir = None) -> None:
    """Run jobs (summaries, embeddings, memories) until stopped."""
    from sprig.server.runtime import Runtime

    settings = load_settings(data_dir=data_dir)
    with plain_problems():
        check_store(settings, key_file=True)
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    async def run() -> None:
        runtime = Runtime.build(settings)
        await runtime.start(worker=False)
        assert runtime.worker is not None
        typer.echo(f"Sprig worker {runtime.worker.worker_id} running", err=True)
        try:
            await runtime.worker.run_forever()
        finally:
            await runtime.close()

    with contextlib.suppress(KeyboardInterrupt):
        import asyncio

        asyncio.run(run())
