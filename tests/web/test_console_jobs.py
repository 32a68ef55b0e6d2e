"""The console's jobs view: the tenant's jobs with state, progress, attempts and errors,
filtered by state and kind, refreshed on demand; a job's error text stays text."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.ext.asyncio import AsyncConnection

from sprig.server.jobs.service import enqueue
from sprig.server.settings import Settings
from sprig.server.store import tables
from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import screenshot, signed_in
from tests.helpers.live_db import write_live

XSS = '<img src=x onerror="window.__xss=1">'
LATER = 3600  # seconds: the live server's worker leaves these jobs alone


def _jobs(settings: Settings, dev: uuid.UUID) -> dict[str, Any]:
    """A pending job, one running at 40 %, one retrying after an error (with markup)."""
    j = tables.jobs

    async def change(conn: AsyncConnection) -> dict[str, Any]:
        made = {
            name: await enqueue(conn, dev, kind, {}, name=name, delay_seconds=LATER)
            for name, kind in (
                ("Embed the handbook", "embed_docs"),
                ("Summarize session", "summarize_session"),
                ("Form memories", "form_memories"),
            )
        }
        changes = {
            "Summarize session": {
                "state": "in_progress",
                "has_progress": True,
                "progress": 0.4,
                "attempts": 1,
            },
            "Form memories": {"state": "retrying", "attempts": 2, "reason": f"Timeout {XSS}"},
        }
        for name, values in changes.items():
            await conn.execute(sa.update(j).where(j.c.id == made[name]["id"]).values(**values))
        return made

    return write_live(settings, change)


def _failed_by_the_worker(c: httpx.Client, settings: Settings, dev: uuid.UUID) -> dict[str, Any]:
    """A job no handler runs, with one attempt: the live server's worker fails it."""

    async def change(conn: AsyncConnection) -> dict[str, Any]:
        return await enqueue(conn, dev, "mystery", {}, name="Mystery job", max_attempts=1)

    job = write_live(settings, change)
    deadline = time.monotonic() + 20
    while (got := c.get(f"/jobs/{job['id']}").json())["state"] != "failed":
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    return dict(got)


def test_jobs_listed_filtered_and_refreshed(
    offline: OfflineContext, live_url: str, api_key: str, live_settings: Settings
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        dev = uuid.UUID(c.get("/me").json()["tenant_id"])
        _jobs(live_settings, dev)
        failed = _failed_by_the_worker(c, live_settings, dev)
    assert failed["reason"] == "no handler for job kind 'mystery'"
    page = signed_in(offline, live_url, api_key, "/jobs")
    rows = page.get_by_test_id("job")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Mystery job")  # newest first

    mystery = rows.filter(has_text="Mystery job")
    expect(mystery).to_contain_text("failed")
    expect(mystery).to_contain_text("1 of 1")
    expect(mystery.locator(".job-error")).to_have_text("no handler for job kind 'mystery'")
    running = rows.filter(has_text="Summarize session")
    expect(running).to_contain_text("in progress")
    expect(running).to_contain_text("1 of 3")
    bar = running.get_by_role("progressbar", name="Progress of Summarize session")
    expect(bar).to_have_attribute("value", "0.4")
    expect(running).to_contain_text("40%")
    retrying = rows.filter(has_text="Form memories")
    expect(retrying).to_contain_text("2 of 3")
    expect(retrying.locator(".job-error")).to_have_text(f"Timeout {XSS}")  # as text
    expect(rows.filter(has_text="Embed the handbook")).to_contain_text("pending")
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main img[src='x']").count() == 0
    screenshot(page, "jobs")

    page.get_by_label("State").select_option("failed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mystery job")
    page.get_by_label("State").select_option("pending")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Embed the handbook")

    async def another(conn: AsyncConnection) -> dict[str, Any]:
        return await enqueue(conn, dev, "embed_docs", {}, name="Embed more", delay_seconds=LATER)

    write_live(live_settings, another)
    expect(rows).to_have_count(1)  # not until a refresh
    page.get_by_role("button", name="Refresh", exact=True).click()
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Embed more")

    page.get_by_label("State").select_option("")
    page.get_by_label("Kind").fill("embed_docs")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Mystery job")).to_have_count(0)
    page.get_by_label("Kind").fill("no_such_kind")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No job matches these filters.")).to_be_visible()
    assert offline.errors == [] and offline.refused == []


def test_jobs_paged(
    offline: OfflineContext, live_url: str, api_key: str, live_settings: Settings
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        dev = uuid.UUID(c.get("/me").json()["tenant_id"])

    async def many(conn: AsyncConnection) -> None:
        for n in range(30):
            await enqueue(conn, dev, "embed_docs", {}, name=f"Job {n:02d}", delay_seconds=LATER)

    write_live(live_settings, many)
    page = signed_in(offline, live_url, api_key, "/jobs")
    rows = page.get_by_test_id("job")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Job 29")
    page.get_by_role("button", name="Next").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Job 00")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
