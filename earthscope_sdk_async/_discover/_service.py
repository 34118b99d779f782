"""DiscoveryService (``client.discover``): networks, stations, sessions and streams.

``GET beta/discover/datasource/{kind}`` one page at a time, through the client's
:class:`Requester` (auth, retries, shared 429 pause). Listing follows ``has_next`` until
the service says there is no more or ``limit`` items were collected; ``limit=None`` means
everything. Unlike earthscope-sdk 1.9.3 a listing that stops at ``limit`` while the service
has more logs a warning (1.9.3 stops at 1,000 silently).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from .._errors import ConfigError
from ._models import (
    NetworkDatasource,
    Page,
    SessionDatasource,
    StationDatasource,
    StreamDatasource,
    StreamType,
)
from ._query import ListOrItem, duration, millis, strings

if TYPE_CHECKING:
    from .._http import Requester

__all__ = ["DiscoveryLimitWarning", "DiscoveryService"]

logger = logging.getLogger(__name__)

M = TypeVar("M")
PAGE_SIZE = 100


class DiscoveryLimitWarning(UserWarning):
    """A discovery listing stopped at ``limit`` while the service had more items."""


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ConfigError(f"limit must be a non-negative int or None (everything), got {limit!r}")


class DiscoveryService:
    """Find datasources; reach it as ``client.discover``.

    Every ``list_*`` method takes 1.9.3's keyword arguments (names and EDIDs as one string
    or a list) and returns a list of frozen models, or of EDID strings with
    ``with_edid_only=True``.
    """

    def __init__(self, requester: Requester) -> None:
        self._requester = requester

    def __repr__(self) -> str:
        return f"DiscoveryService({self._requester!r})"

    async def _page(self, kind: str, params: dict[str, Any]) -> Page[Any]:
        response = await self._requester.request(
            "GET", f"beta/discover/datasource/{kind}", params=params
        )
        from .._http._json import decode_json, invalid_response

        body = decode_json(response, f"{kind} listing")
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise invalid_response(response, f"{kind} listing", "no 'items' list")
        return Page(
            has_next=bool(body.get("has_next")),
            offset=int(body.get("offset") or 0),
            limit=int(body.get("limit") or 0),
            items=body["items"],
            total=body.get("total") if isinstance(body.get("total"), int) else None,
        )

    async def _list(
        self,
        kind: str,
        params: dict[str, Any],
        parse: Callable[[Any], M],
        *,
        edid_only: bool,
        limit: int | None,
    ) -> list[Any]:
        _check_limit(limit)
        if limit == 0:
            return []
        params = {k: v for k, v in params.items() if v != [] and v is not None}
        params["with_edid_only"] = edid_only
        items: list[Any] = []
        offset = 0
        while limit is None or len(items) < limit:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(items))
            page = await self._page(kind, {**params, "limit": size, "offset": offset})
            items.extend(str(i) if edid_only else parse(i) for i in page.items)
            offset += len(page.items)
            if not page.has_next or not page.items:
                return items
        warnings.warn(
            f"discovery of {kind}s stopped at limit={limit} while the service has more; "
            "pass a larger limit, or limit=None for everything",
            DiscoveryLimitWarning,
            stacklevel=3,
        )
        return items

    async def list_network_datasources(
        self,
        *,
        network_name: ListOrItem[str] | None = None,
        network_edid: ListOrItem[str] | None = None,
        with_edid_only: bool = False,
        limit: int | None = 1000,
    ) -> list[Any]:
        """Networks matching the filters (``list[NetworkDatasource]``, or EDIDs).

        Raises:
            ConfigError: an invalid argument.
            ApiError: the service refused or failed.
        """
        params = _common(network_name, network_edid)
        return await self._list(
            "network", params, NetworkDatasource.from_json, edid_only=with_edid_only, limit=limit
        )

    async def list_station_datasources(
        self,
        *,
        network_name: ListOrItem[str] | None = None,
        network_edid: ListOrItem[str] | None = None,
        station_name: ListOrItem[str] | None = None,
        station_edid: ListOrItem[str] | None = None,
        with_edid_only: bool = False,
        with_parent_edids: bool = False,
        limit: int | None = 1000,
    ) -> list[Any]:
        """Stations matching the filters (``list[StationDatasource]``, or EDIDs).

        Raises:
            ConfigError: an invalid argument.
            ApiError: the service refused or failed.
        """
        params = _common(network_name, network_edid, station_name, station_edid)
        params["with_parent_edids"] = bool(with_parent_edids)
        return await self._list(
            "station", params, StationDatasource.from_json, edid_only=with_edid_only, limit=limit
        )

    async def list_session_datasources(
        self,
        *,
        network_name: ListOrItem[str] | None = None,
        network_edid: ListOrItem[str] | None = None,
        station_name: ListOrItem[str] | None = None,
        station_edid: ListOrItem[str] | None = None,
        session_name: ListOrItem[str] | None = None,
        session_edid: ListOrItem[str] | None = None,
        sample_interval: timedelta | None = None,
        roll: timedelta | None = None,
        with_edid_only: bool = False,
        with_parents: bool = False,
        with_parent_edids: bool = False,
        limit: int | None = 1000,
    ) -> list[Any]:
        """Sessions matching the filters (``list[SessionDatasource]``, or EDIDs).

        ``sample_interval`` is sent in milliseconds, ``roll`` in seconds.

        Raises:
            ConfigError: an invalid argument.
            ApiError: the service refused or failed.
        """
        params = _common(network_name, network_edid, station_name, station_edid)
        params["session_name"] = strings("session_name", session_name)
        params["session_edid"] = strings("session_edid", session_edid)
        interval = duration("sample_interval", sample_interval)
        rolled = duration("roll", roll)
        params["sample_interval"] = millis(interval) if interval else None
        params["roll"] = rolled.total_seconds() if rolled else None
        params["with_parents"] = bool(with_parents)
        params["with_parent_edids"] = bool(with_parent_edids)
        return await self._list(
            "session", params, SessionDatasource.from_json, edid_only=with_edid_only, limit=limit
        )

    async def list_stream_datasources(
        self,
        *,
        network_name: ListOrItem[str] | None = None,
        network_edid: ListOrItem[str] | None = None,
        station_name: ListOrItem[str] | None = None,
        station_edid: ListOrItem[str] | None = None,
        stream_name: ListOrItem[str] | None = None,
        stream_edid: ListOrItem[str] | None = None,
        stream_type: StreamType | str | None = None,
        facility: ListOrItem[str] | None = None,
        software: ListOrItem[str] | None = None,
        label: ListOrItem[str] | None = None,
        sample_interval: timedelta | None = None,
        with_edid_only: bool = False,
        with_parents: bool = False,
        with_parent_edids: bool = False,
        limit: int | None = 1000,
    ) -> list[Any]:
        """Streams matching the filters (``list[StreamDatasource]``, or EDIDs).

        Raises:
            ConfigError: an invalid argument.
            ApiError: the service refused or failed.
        """
        params = _common(network_name, network_edid, station_name, station_edid)
        params["stream_name"] = strings("stream_name", stream_name)
        params["stream_edid"] = strings("stream_edid", stream_edid)
        if stream_type is not None:
            try:
                params["stream_type"] = StreamType(stream_type).value
            except ValueError:
                raise ConfigError(
                    f"stream_type must be gnss_raw or gnss_ppp, got {stream_type!r}"
                ) from None
        for name, value in (("facility", facility), ("software", software), ("label", label)):
            params[name] = strings(name, value)
        interval = duration("sample_interval", sample_interval)
        params["sample_interval"] = millis(interval) if interval else None
        params["with_parents"] = bool(with_parents)
        params["with_parent_edids"] = bool(with_parent_edids)
        return await self._list(
            "stream", params, StreamDatasource.from_json, edid_only=with_edid_only, limit=limit
        )


def _common(*values: Any) -> dict[str, Any]:
    keys = ("network_name", "network_edid", "station_name", "station_edid")
    return {k: strings(k, v) for k, v in zip(keys, values, strict=False)}
