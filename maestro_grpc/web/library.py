"""Page 1, the library: search as you type, type and tag facets with counts, keyset pages.

The URL holds the whole query (`q`, `type`, `tag`, `min_impact`, `sort`,
`page`), so a search can be shared and the back button returns to it; as a
person types or clicks, htmx asks for the same URL and swaps the facets and
results in place (the server answers the fragment), pushing the URL.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from maestro.registry.v1 import artifact_pb2
from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.web.client import metadata
from maestro_grpc.web.format import artifact_type
from maestro_grpc.web.security import session_token
from maestro_grpc.web.views import backend, is_partial, render

PAGE_SIZE = 20
SORTS = {
    "impact": pb.ARTIFACT_ORDER_BY_IMPACT,
    "recency": pb.ARTIFACT_ORDER_BY_RECENCY,
    "usage": pb.ARTIFACT_ORDER_BY_USAGE,
}
# The URL names a type by its short name: ?type=feature_pipeline.
TYPES = {
    name.removeprefix("ARTIFACT_TYPE_").lower(): value
    for name, value in artifact_pb2.ArtifactType.items()
    if value != artifact_pb2.ARTIFACT_TYPE_UNSPECIFIED
}
MAX_QUERY_CHARS = 500
MAX_TAGS = 20


@dataclass
class LibraryQuery:
    """A search as the URL states it, with what in it could not be used."""

    text: str = ""
    types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    min_impact: float = 0.0
    sort: str = "impact"
    page: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_params(cls, params: QueryParams) -> LibraryQuery:
        query = cls(text=params.get("q", "").strip()[:MAX_QUERY_CHARS])
        for name in params.getlist("type"):
            if name in TYPES and name not in query.types:
                query.types.append(name)
            elif name not in TYPES:
                query.problems.append(f"There is no artifact type {name!r}.")
        query.tags = list(dict.fromkeys(t.strip().lower() for t in params.getlist("tag") if t))
        raw_impact = params.get("min_impact", "").strip()
        if raw_impact:
            try:
                impact = float(raw_impact)
            except ValueError:
                impact = math.nan
            if math.isfinite(impact) and 0 <= impact <= 100:
                query.min_impact = impact
            else:
                query.problems.append("The minimum impact is a number from 0 to 100.")
        sort = params.get("sort", "impact")
        query.sort = sort if sort in SORTS else "impact"
        query.page = params.get("page", "")
        return query

    def filters(self) -> dict[str, object]:
        return {
            "query": self.text,
            "types": [TYPES[t] for t in self.types],
            "tags_all": self.tags,
            "min_impact_score": self.min_impact,
        }

    def url(self, **changes: object) -> str:
        """This search's URL, with some parts changed (page="" drops the page)."""
        parts: dict[str, object] = {
            "q": self.text,
            "type": self.types,
            "tag": self.tags,
            "min_impact": _number(self.min_impact) if self.min_impact else "",
            "sort": "" if self.sort == "impact" else self.sort,
            "page": self.page,
        }
        parts.update(changes)
        pairs = [
            (key, item)
            for key, value in parts.items()
            for item in (value if isinstance(value, list) else [value])
            if item
        ]
        return "/library" + (f"?{urlencode(pairs)}" if pairs else "")


def _number(value: float) -> str:
    return f"{value:g}"


def tag_id(tag: str) -> str:
    """An element id for a tag's checkbox: stable across swaps, so focus stays on it."""
    return "tag-" + tag.encode().hex()


async def page(request: Request) -> Response:
    query = LibraryQuery.from_params(request.query_params)
    registry = backend(request).registry
    auth = metadata(session_token(request))
    searching = registry.SearchArtifacts(
        pb.SearchArtifactsRequest(
            **query.filters(),  # type: ignore[arg-type]
            order_by=SORTS[query.sort],
            page_size=PAGE_SIZE,
            page_token=query.page,
        ),
        metadata=auth,
        timeout=backend(request).timeout,
    )
    # As one types, the results come first and the facets' counts follow in a
    # request of their own (counting a broad match costs more than a page of
    # it); a whole page, which must work without script, has both at once.
    partial = is_partial(request)
    if partial:
        search, facets = await searching, None
    else:
        search, facets = await asyncio.gather(searching, count_facets(request, query))
    context = {
        **facet_context(request, query, facets),
        "sorts": list(SORTS),
        "artifacts": list(search.artifacts),
        "total": search.total_size,
        # Beyond the server's count limit the total is a floor: "10,000+".
        "total_is_lower_bound": search.total_size_is_lower_bound,
        "next_url": query.url(page=search.next_page_token) if search.next_page_token else "",
        "first_url": query.url(page="") if query.page else "",
    }
    template = "library_live.html" if partial else "library.html"
    return render(request, template, context)


async def count_facets(request: Request, query: LibraryQuery) -> pb.CountArtifactFacetsResponse:
    found: pb.CountArtifactFacetsResponse = await backend(request).registry.CountArtifactFacets(
        pb.CountArtifactFacetsRequest(**query.filters(), max_tags=MAX_TAGS),  # type: ignore[arg-type]
        metadata=metadata(session_token(request)),
        timeout=backend(request).timeout,
    )
    return found


def facet_context(
    request: Request, query: LibraryQuery, facets: pb.CountArtifactFacetsResponse | None
) -> dict[str, object]:
    """The facets' values and counts (None while they are still to come)."""
    type_counts: dict[str, int | None] = {name: None for name in TYPES}
    tag_counts: dict[str, int | None] = {}
    if facets is not None:
        type_counts = {name: 0 for name in TYPES}
        type_counts.update(
            (f.value.removeprefix("ARTIFACT_TYPE_").lower(), f.count) for f in facets.types
        )
        tag_counts = {f.value: f.count for f in facets.tags}
    # A chosen tag stays in the list even when the top tags no longer hold it.
    for tag in query.tags:
        tag_counts.setdefault(tag, 0 if facets is not None else None)
    return {
        "query": query,
        "types": [(name, artifact_type(value), type_counts[name]) for name, value in TYPES.items()],
        "tags": sorted(tag_counts.items(), key=lambda item: (-(item[1] or 0), item[0])),
        "tag_id": tag_id,
        "pending": facets is None,
        "facets_url": "/library/facets" + (f"?{request.url.query}" if request.url.query else ""),
    }


async def facets_fragment(request: Request) -> Response:
    """The facets with their counts, for the placeholder a typed search left."""
    query = LibraryQuery.from_params(request.query_params)
    facets = await count_facets(request, query)
    return render(request, "library_facets.html", facet_context(request, query, facets))
