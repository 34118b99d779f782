"""The API hot path's shortcuts keep httpx's behaviour: a cookie the server sets is still
sent back (the jar only skips responses without ``Set-Cookie``), and a URL parsed once per
pool still gets each call's own query parameters."""

from __future__ import annotations

import httpx
import respx

from earthscope_sdk_async._clock import SystemClock
from earthscope_sdk_async._http._pool import new_http_client
from earthscope_sdk_async._http._send import ApiCall, send_with_retries
from earthscope_sdk_async._retry import RetryPolicy, SharedPause

URL = "https://api.example.test/beta/item"


def pool() -> httpx.AsyncClient:
    return new_http_client(
        "httpcore",
        auth=httpx.Auth(),
        timeout=httpx.Timeout(5.0),
        headers={"User-Agent": "test"},
    )


async def send(http: httpx.AsyncClient, call: ApiCall) -> httpx.Response:
    clock = SystemClock()  # nothing here is retried or paused
    return await send_with_retries(
        http, call, policy=RetryPolicy(), pause=SharedPause(clock), clock=clock
    )


async def test_a_cookie_set_by_the_server_is_sent_back() -> None:
    with respx.mock:
        route = respx.get(URL).mock(
            side_effect=[
                httpx.Response(200, json={}),
                httpx.Response(200, json={}, headers={"Set-Cookie": "lb=node7; Path=/"}),
                httpx.Response(200, json={}),
            ]
        )
        async with pool() as http:
            for _ in range(3):
                await send(http, ApiCall("GET", URL))
    sent = [call.request.headers.get("cookie") for call in route.calls]
    assert sent == [None, None, "lb=node7"]


async def test_a_url_parsed_once_still_takes_each_calls_parameters() -> None:
    with respx.mock:
        route = respx.get(URL).mock(return_value=httpx.Response(200, json={}))
        async with pool() as http:
            await send(http, ApiCall("GET", URL, params={"page": 1}))
            await send(http, ApiCall("GET", URL, params={"page": 2}))
            await send(http, ApiCall("GET", URL))
    assert [str(call.request.url) for call in route.calls] == [
        f"{URL}?page=1",
        f"{URL}?page=2",
        URL,
    ]
