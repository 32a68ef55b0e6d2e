"""What Sprig leaves on disk (issue 13, items 16-17): a private data directory and database
(with its -wal/-shm), the server secret's sources, and an operator's own modes kept."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from sprig.server.app import create_app
from sprig.server.auth.secret import SECRET_FILE, SecretKeyError, ServerSecret
from sprig.server.settings import Settings
from tests.helpers.app import API_KEY, auth, build_app, make_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022: without Sprig's care, files would be 0644 and directories 0755."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("loose_umask")
async def test_new_data_dir_database_and_secrets_are_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    app = create_app(Settings(data_dir=data, default_model="echo", embedding_model="hashing"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        key = (data / "api_key").read_text().strip()
        assert (await c.post("/agents", json={"name": "a"}, headers=auth(key))).status_code == 201
        wal, shm = data / "sprig.db-wal", data / "sprig.db-shm"
        assert wal.exists() and shm.exists()
        assert (mode(wal), mode(shm)) == (0o600, 0o600)
    assert mode(data) == 0o700
    assert mode(data.parent) == 0o700  # created by Sprig too
    for name in ("sprig.db", SECRET_FILE, "api_key"):
        assert mode(data / name) == 0o600, name


@pytest.mark.usefixtures("loose_umask")
async def test_an_operators_directory_and_database_keep_their_modes_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "mine"
    data.mkdir(mode=0o755)
    (data / "sprig.db").touch(mode=0o644)
    app = build_app(make_settings(data))
    with caplog.at_level(logging.WARNING, logger="sprig.store"):
        async with app.router.lifespan_context(app):
            pass
    assert mode(data) == 0o755 and mode(data / "sprig.db") == 0o644
    assert any("readable by every user" in r.getMessage() for r in caplog.records)
    assert mode(data / SECRET_FILE) == 0o600  # a file Sprig creates is private


async def test_secret_sources(tmp_path: Path) -> None:
    given = ServerSecret.from_settings(
        make_settings(tmp_path / "a", secret_key=SecretStr("e" * 32))
    )
    assert given.source == "SPRIG_SECRET_KEY"
    assert not (tmp_path / "a" / SECRET_FILE).exists()  # nothing written when it is given
    path = tmp_path / "mounted"
    path.write_text("f" * 40 + "\n")
    from_file = ServerSecret.from_settings(make_settings(tmp_path / "b", secret_key_file=path))
    assert from_file.raw == b"f" * 40
    generated = ServerSecret.from_settings(make_settings(tmp_path / "c"))
    assert generated == ServerSecret.from_settings(make_settings(tmp_path / "c"))  # read back
    assert generated.key_digest(API_KEY) != from_file.key_digest(API_KEY)  # keyed
    with pytest.raises(SecretKeyError, match="at least 32"):
        ServerSecret.from_settings(make_settings(tmp_path / "d", secret_key=SecretStr("short")))
    with pytest.raises(SecretKeyError, match="Cannot read"):
        ServerSecret.from_settings(make_settings(tmp_path / "e", secret_key_file=tmp_path / "no"))
