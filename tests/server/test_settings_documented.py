"""Every setting is documented in docs/configuration.md, and nothing stale is documented."""

from __future__ import annotations

import re
from pathlib import Path

from sprig.server.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(SPRIG_[A-Z0-9_]+)`", DOC.read_text()))
    fields = {f"SPRIG_{name.upper()}" for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from docs/configuration.md"
    assert documented - fields == set(), "docs/configuration.md names settings that do not exist"
