"""The console's documents and search playground: files uploaded through the input and by
drop (each one doc, with progress), a typed text doc, an agent's Documents tab with delete,
an uploaded doc found in text and hybrid mode with its score and the query's words marked,
and markup in a doc's title and content shown as text."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from tests.helpers.app import auth
from tests.helpers.browser import OfflineContext
from tests.helpers.console import screenshot, signed_in

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
ZEBRAS = "Zebras migrate across the Serengeti every year, following the rains."
OTTERS = "Sea otters hold hands while they sleep so they do not drift apart."
KOALAS = "Koalas sleep up to twenty hours a day on a diet of eucalyptus leaves."


def _agent(live_url: str, api_key: str, name: str = "Archivist") -> str:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        made = c.post("/agents", json={"name": name})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])


def _docs(live_url: str, api_key: str, owner: str) -> dict[str, Any]:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        listed = c.get(f"/{owner}/docs")
        assert listed.status_code == 200, listed.text
        return {d["title"]: d["content"] for d in listed.json()["items"]}


def _file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode()}


def _file_input(page: Page) -> Any:
    files = page.locator("input[type=file]")
    expect(files).to_have_accessible_name(re.compile(r"^Files"))
    return files


def _drop(page: Page, name: str, text: str) -> None:
    """Drop a file on the drop zone, as a browser does: a DataTransfer holding a File."""
    page.get_by_test_id("dropzone").evaluate(
        """(zone, [name, text]) => {
            const data = new DataTransfer();
            data.items.add(new File([text], name, { type: "text/plain" }));
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
            }
        }""",
        [name, text],
    )


def _stored(page: Page, name: str) -> None:
    item = page.locator(f"li[data-upload='{name}']")
    expect(item).to_have_attribute("data-state", "stored")
    expect(item.get_by_role("progressbar", name=f"Upload of {name}")).to_have_js_property(
        "value", 1
    )


def _documents_page(offline: OfflineContext, live_url: str, api_key: str, owner: str) -> Page:
    page = signed_in(offline, live_url, api_key, f"/documents?owner={owner}")
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Its documents")).to_be_visible()
    return page


def test_files_uploaded_through_the_input_and_by_drop(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    page = _documents_page(offline, live_url, api_key, f"agents/{agent_id}")
    expect(page.get_by_label("Owner", exact=True)).to_have_value(agent_id)
    expect(page.get_by_text("No documents yet.")).to_be_visible()
    _file_input(page).set_input_files([_file("zebras.txt", ZEBRAS), _file("otters.md", OTTERS)])
    _stored(page, "zebras.txt")
    _stored(page, "otters.md")
    page.get_by_test_id("dropzone").focus()  # reachable as a button, too
    expect(page.get_by_test_id("dropzone")).to_be_focused()
    _drop(page, "koalas.txt", KOALAS)
    _stored(page, "koalas.txt")
    expect(page.get_by_role("status").filter(has_text="3 of 3 uploaded")).to_be_visible()
    listed = page.locator("table.docs tbody")
    for title in ("zebras.txt", "otters.md", "koalas.txt"):
        expect(listed.get_by_role("rowheader", name=title)).to_be_visible()
    assert _docs(live_url, api_key, f"agents/{agent_id}") == {
        "zebras.txt": ZEBRAS,
        "otters.md": OTTERS,
        "koalas.txt": KOALAS,
    }
    page.set_viewport_size({"width": 1200, "height": 900})
    screenshot(page, "documents")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("dropzone")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1
    screenshot(page, "documents-narrow")


def test_a_typed_text_doc_for_a_user_picked_from_the_list(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        user = c.post("/users", json={"name": "Reader"}).json()
    page = signed_in(offline, live_url, api_key, "/documents")
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_text("Choose an owner")).to_be_visible()
    page.get_by_label("Owner kind").select_option("users")
    owner = page.get_by_label("Owner", exact=True)
    expect(owner.locator("option", has_text="Reader")).to_have_count(1)
    owner.select_option(user["id"])
    expect(page.get_by_role("heading", name="Its documents")).to_be_visible()
    assert page.url.endswith(f"#/documents?owner=users/{user['id']}")
    page.get_by_label("Title", exact=True).fill("Reading list")
    page.get_by_label("Text", exact=True).fill("Dune\nThe Left Hand of Darkness")
    page.get_by_role("button", name="Add document").click()
    expect(page.get_by_role("status").filter(has_text="Added “Reading list”")).to_be_visible()
    expect(page.get_by_role("rowheader", name="Reading list")).to_be_visible()
    assert _docs(live_url, api_key, f"users/{user['id']}") == {
        "Reading list": "Dune\nThe Left Hand of Darkness"
    }


def test_the_agent_documents_tab_lists_and_deletes(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        for title, content in (("Zebras", ZEBRAS), ("Otters", OTTERS)):
            r = c.post(f"/agents/{agent_id}/docs", json={"title": title, "content": content})
            assert r.status_code == 201, r.text
    page = signed_in(offline, live_url, api_key, f"/agents/{agent_id}")
    page.get_by_role("tab", name="Documents").click()
    expect(page.get_by_role("rowheader", name="Zebras")).to_be_visible()
    expect(page.get_by_role("row", name="Otters")).to_contain_text(f"{len(OTTERS)} characters")
    page.get_by_role("button", name="Delete Zebras").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("rowheader", name="Zebras")).to_have_count(0)
    expect(page.get_by_role("rowheader", name="Otters")).to_be_visible()
    assert set(_docs(live_url, api_key, f"agents/{agent_id}")) == {"Otters"}


def _search(page: Page, mode: str) -> None:
    page.get_by_label("Mode").select_option(mode)
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status").filter(has_text=f"by {mode} search")).to_be_visible()


def test_an_uploaded_doc_found_in_the_search_playground(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    page = _documents_page(offline, live_url, api_key, f"agents/{agent_id}")
    _file_input(page).set_input_files([_file("zebras.txt", ZEBRAS), _file("otters.txt", OTTERS)])
    _stored(page, "zebras.txt")
    _stored(page, "otters.txt")
    page.get_by_role("link", name="Search these documents").click()
    expect(page.get_by_role("heading", name="Search playground")).to_be_visible()
    expect(page.get_by_label("Owner", exact=True)).to_have_value(agent_id)
    page.get_by_label("Query text").fill("zebras migrate")
    expect(page.get_by_label("Alpha")).to_be_enabled()
    page.get_by_label("Mode").select_option("text")
    expect(page.get_by_label("Alpha")).to_be_disabled()  # not a text search's knob
    _search(page, "text")
    results = page.locator("ol.results > li")
    expect(results).to_have_count(1)
    first = results.first
    expect(first.get_by_role("heading", name="zebras.txt")).to_be_visible()
    assert float(first.get_by_test_id("score").inner_text()) > 0
    expect(first.locator("mark")).to_have_text(["Zebras", "migrate"])

    page.get_by_label("Mode").select_option("hybrid")
    page.get_by_label("Alpha").fill("0.3")  # a range input takes fill()
    expect(page.locator("output").first).to_have_text("0.3")
    page.get_by_label("Limit").fill("5")
    _search(page, "hybrid")
    first = page.locator("ol.results > li").first
    expect(first.get_by_role("heading", name="zebras.txt")).to_be_visible()
    assert float(first.get_by_test_id("score").inner_text()) > 0
    expect(first.locator("mark").first).to_have_text("Zebras")
    page.set_viewport_size({"width": 1200, "height": 1000})
    screenshot(page, "search")


def test_a_search_error_is_shown_in_the_api_words(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    page = signed_in(offline, live_url, api_key, f"/search?owner=agents/{agent_id}")
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        assert c.delete(f"/agents/{agent_id}").status_code in (200, 202)
    page.get_by_label("Query text").fill("anything")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Agent {agent_id} not found")


def test_markup_in_doc_titles_and_content_is_text(
    offline: OfflineContext, live_url: str, api_key: str
) -> None:
    agent_id = _agent(live_url, api_key)
    with httpx.Client(base_url=live_url, headers=auth(api_key)) as c:
        r = c.post(f"/agents/{agent_id}/docs", json={"title": XSS, "content": f"onerror {XSS}"})
        assert r.status_code == 201, r.text
    page = signed_in(offline, live_url, api_key, f"/agents/{agent_id}?tab=documents")
    expect(page.get_by_role("rowheader", name=XSS)).to_be_visible()
    go_search = page.get_by_role("link", name="Search them")
    go_search.click()
    page.get_by_label("Query text").fill("onerror script")
    page.get_by_label("Mode").select_option("text")
    page.get_by_role("button", name="Search").click()
    result = page.locator("ol.results > li").first
    expect(result.get_by_role("heading", name=XSS)).to_be_visible()
    expect(result.locator("mark").first).to_have_text("onerror")
    expect(result.locator(".snippet")).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0
    assert offline.errors == []
