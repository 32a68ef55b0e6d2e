"""Pages of list results, which can fetch the pages after them.

A page is a `list` of this page's items (so ``for agent in client.agents.list()`` sees one
page, as in the Julep SDK docs) with ``.items`` and:

- ``has_next_page()`` / ``next_page()``: the page at ``offset + len(page)``;
- ``iter_pages()``: this page and every later one;
- ``auto_paging_iter()``: every item of every page from here on.

Iteration stops at an empty page, or at a short one when ``limit`` was given (the server
honours ``limit`` exactly).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sprig.client._call import ListCall

X = TypeVar("X")


class _Page(list[X]):
    def __init__(self, items: list[X], call: ListCall[X]) -> None:
        super().__init__(items)
        self.call = call

    @property
    def items(self) -> list[X]:
        return list(self)

    def has_next_page(self) -> bool:
        limit = self.call.limit
        return len(self) > 0 and (limit is None or len(self) >= limit)

    def _next_call(self) -> ListCall[X]:
        return self.call.at(self.call.offset + len(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list.__repr__(self)})"


class SyncPage(_Page[X]):
    def __init__(
        self, items: list[X], call: ListCall[X], fetch: Callable[[ListCall[X]], SyncPage[X]]
    ) -> None:
        super().__init__(items, call)
        self._fetch = fetch

    def next_page(self) -> SyncPage[X] | None:
        return self._fetch(self._next_call()) if self.has_next_page() else None

    def iter_pages(self) -> Iterator[SyncPage[X]]:
        page: SyncPage[X] | None = self
        while page is not None:
            if page:
                yield page
            page = page.next_page()

    def auto_paging_iter(self) -> Iterator[X]:
        for page in self.iter_pages():
            yield from page


class AsyncPage(_Page[X]):
    def __init__(
        self,
        items: list[X],
        call: ListCall[X],
        fetch: Callable[[ListCall[X]], Awaitable[AsyncPage[X]]],
    ) -> None:
        super().__init__(items, call)
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[X] | None:
        return await self._fetch(self._next_call()) if self.has_next_page() else None

    async def iter_pages(self) -> AsyncIterator[AsyncPage[X]]:
        page: AsyncPage[X] | None = self
        while page is not None:
            if page:
                yield page
            page = await page.next_page()

    async def auto_paging_iter(self) -> AsyncIterator[X]:
        async for page in self.iter_pages():
            for item in page:
                yield item
