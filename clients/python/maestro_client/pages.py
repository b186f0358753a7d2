"""Every item of a List or Search RPC, page after page.

Maestro's lists are keyset-paged: each response's `next_page_token` asks
for the page after it, bound to the request's filter, and an empty token is
the last page. These iterators follow the tokens; the request given is not
changed (each page is asked for with a copy).

    async for project in pages(client.registry.ListProjects, request, "projects"):
        ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from google.protobuf.message import Message

Request = TypeVar("Request", bound=Message)


async def pages(
    method: Callable[..., Awaitable[Any]],
    request: Request,
    items: str,
    *,
    limit: int | None = None,
    **call_options: Any,
) -> AsyncIterator[Any]:
    """The `items` field's entries of every page of `method(request)`, in order;
    at most `limit` of them. `call_options` (timeout, metadata) go to each call."""
    count = 0
    async for page in responses(method, request, **call_options):
        for item in getattr(page, items):
            if limit is not None and count >= limit:
                return
            yield item
            count += 1
        if limit is not None and count >= limit:
            return


async def responses(
    method: Callable[..., Awaitable[Any]], request: Request, **call_options: Any
) -> AsyncIterator[Any]:
    """Each page's whole response (for `total_size`, facets and the like)."""
    current = _copy(request)
    while True:
        page = await method(current, **call_options)
        yield page
        token = page.next_page_token
        if not token:
            return
        current = _copy(current)
        current.page_token = token  # type: ignore[attr-defined]


def sync_pages(
    method: Callable[..., Any],
    request: Request,
    items: str,
    *,
    limit: int | None = None,
    **call_options: Any,
) -> Iterator[Any]:
    """`pages` for a blocking stub."""
    current = _copy(request)
    yielded = 0
    while True:
        page = method(current, **call_options)
        for item in getattr(page, items):
            if limit is not None and yielded >= limit:
                return
            yield item
            yielded += 1
        if not page.next_page_token or (limit is not None and yielded >= limit):
            return
        current = _copy(current)
        current.page_token = page.next_page_token  # type: ignore[attr-defined]


def _copy(request: Request) -> Request:
    copied = type(request)()
    copied.CopyFrom(request)
    return copied
