"""The OpenAI front door's tests: a live server's Julep API (``api``), the official
``openai`` SDK on it (``oai``), and agents on the scripted model."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.helpers.app import API_KEY, auth


@pytest.fixture
def api(live_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_url, headers=auth(API_KEY), timeout=30) as c:
        yield c


@pytest.fixture
def oai(live_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{live_url}/v1", api_key=API_KEY, max_retries=0) as c:
        yield c
