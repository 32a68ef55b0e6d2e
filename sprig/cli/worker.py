"""`sprig worker`: run background jobs in a separate process (same database as the servers)."""

from __future__ import annotations

import contextlib
import logging

from sprig.cli.common import DataDir, load_settings
from sprig.cli.startup import check_store, plain_problems
from sprig.server.observability import logs

log = logging.getLogger("sprig.worker")


def worker(data_dir: DataDir = None) -> None:
    """Run jobs (summaries, embeddings, memories) until stopped."""
    from sprig.server.runtime import Runtime

    settings = load_settings(data_dir=data_dir)
    with plain_problems():
        check_store(settings, key_file=True)
    logs.configure(settings)

    async def run() -> None:
        runtime = Runtime.build(settings)
        await runtime.start(worker=False)
        assert runtime.worker is not None
        log.info("Sprig worker %s running", runtime.worker.worker_id)
        try:
            await runtime.worker.run_forever()
        finally:
            await runtime.close()

    with contextlib.suppress(KeyboardInterrupt):
        import asyncio

        asyncio.run(run())
