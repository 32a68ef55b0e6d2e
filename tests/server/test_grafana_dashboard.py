"""docs/grafana/sprig-dashboard.json queries only metrics a live app exposes at /metrics
(after a chat turn), groups by their labels, and every panel reads the dashboard's
Prometheus input. Labels and label values being added (``tenant`` on tokens, more turn
``part`` values) may be pending: names are what is checked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sprig.server.models.scripted import ScriptedModel

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana" / "sprig-dashboard.json"
PENDING_LABELS = {"tenant"}  # on sprig_tokens_total, being added
TARGET_LABELS = {"le", "job", "instance"}  # Prometheus' own
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
METRIC = re.compile(r"\bsprig_[a-z0-9_]+")
SUFFIX = re.compile(r"_(total|bucket|sum|count)$")
BY = re.compile(r"\bby \(([^)]*)\)")


def exposed(text: str) -> dict[str, set[str]]:
    """Each sample name the exposition declares (with or without samples yet), with the
    labels its samples have."""
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for suffix in SUFFIXES.get(family.type, [""]):
            names.setdefault(family.name + suffix, set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    variables = dashboard["templating"]["list"]
    return exprs + [v["query"]["query"] for v in variables if v["type"] == "query"]


async def test_the_dashboard_queries_what_metrics_exposes(
    client: httpx.AsyncClient, model: ScriptedModel
) -> None:
    agent = (await client.post("/agents", json={"name": "g", "model": "scripted"})).json()
    session = (await client.post("/sessions", json={"agent": agent["id"]})).json()["id"]
    model.push("a reply")
    ask = {"messages": [{"role": "user", "content": "hi"}]}
    assert (await client.post(f"/sessions/{session}/chat", json=ask)).status_code == 201
    text = (await client.get("/metrics")).text
    names = exposed(text)
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = expressions(dashboard)
    assert len(exprs) >= 15
    for expr in exprs:
        used = set(METRIC.findall(expr))
        assert used, expr
        assert used <= set(names), f"{expr}: {used - set(names)} not at /metrics"
        known = set().union(*(names[m] for m in used)) | TARGET_LABELS | PENDING_LABELS
        grouped = {label.strip() for group in BY.findall(expr) for label in group.split(",")}
        if all(names[m] for m in used):  # labels known once the metric has samples
            assert grouped <= known, f"{expr}: {grouped - known}"
    covered = {SUFFIX.sub("", m) for expr in exprs for m in METRIC.findall(expr)}
    families = {f.name for f in text_string_to_metric_families(text)}
    ours = {f for f in families if f.startswith("sprig_") and not f.endswith("_created")}
    assert ours <= covered  # every Sprig metric has a panel (`_created`: creation times)


def test_every_panel_reads_the_prometheus_input() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39
    (source,) = dashboard["__inputs"]
    assert (source["name"], source["pluginId"]) == ("DS_PROMETHEUS", "prometheus")
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"] and all(
            t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in panel["targets"]
        )
