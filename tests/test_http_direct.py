"""API calls send the same requests and get the same answers on both HTTP backends.

On aiohttp the Requester skips ``httpx.AsyncClient.send`` (the direct path, ``_http/_direct``)
and redoes its steps itself; every test here runs on httpcore (through httpx) and on aiohttp
(direct) and expects the same: bearer only to allowed hosts, redirects (method changes, the
token dropped across origins, the redirect limit), cookies, params/JSON/headers on the wire,
gzip answers, the 401 refresh-and-retry rule, error messages naming the request, and the
per-attempt deadline. Then the deadline bookkeeping itself (``_http/_deadlines``) and when
the direct path applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from _echo_server import EchoServer, echo_server
from _helpers import FAST, FUTURE, INVALID_TOKEN, stale_but_trusted
from _helpers import make_client as fake_client

from earthscope_sdk_async import (
    ApiError,
    AsyncEarthScopeClient,
    ConfigError,
    MemoryTokenStore,
    RetryPolicy,
    Settings,
    Tokens,
    TransportError,
)
from earthscope_sdk_async._http._deadlines import Deadlines
from earthscope_sdk_async._http._direct import direct_route
from earthscope_sdk_async.testing import FakeEarthScope

pytestmark = pytest.mark.usefixtures("http_backend")

TOKEN = "tok-direct-path-0123456789"


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with echo_server("127.0.0.1") as server:
        yield server


@pytest.fixture
def other_origin() -> Iterator[EchoServer]:
    with echo_server("127.0.0.2") as server:
        yield server


def client_of(server: EchoServer, **settings: Any) -> AsyncEarthScopeClient:
    store = MemoryTokenStore(Tokens(access_token=TOKEN, expires_at=FUTURE))
    configured = Settings(api_url=server.url, domain=server.url, **settings)
    return AsyncEarthScopeClient(configured, store=store, retry=FAST)


async def echoed(client: AsyncEarthScopeClient, url: str, **kwargs: Any) -> dict[str, Any]:
    method = kwargs.pop("method", "GET")
    answer: dict[str, Any] = (await client.requester.request(method, url, **kwargs)).json()
    return answer


# -- what goes on the wire ----------------------------------------------------------------


async def test_bearer_and_default_headers(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        seen = await echoed(client, "echo")
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["user-agent"].startswith("earthscope-sdk-async/")
    assert seen["method"] == "GET"
    assert seen["target"] == "/echo"


async def test_no_bearer_for_another_host(echo: EchoServer, other_origin: EchoServer) -> None:
    async with client_of(echo) as client:
        seen = await echoed(client, other_origin.url + "echo")
    assert "authorization" not in seen["headers"]


async def test_params_json_and_headers_as_httpx_sends_them(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        seen = await echoed(
            client,
            "echo",
            method="POST",
            params={"a": "1 2/3", "b": ["x", "y"], "c": "é"},
            json={"k": "é", "n": [1, 2.5, None]},
            headers={"X-Custom": "v", "accept": "application/json"},
        )
    assert seen["method"] == "POST"
    assert seen["target"] == "/echo?a=1+2%2F3&b=x&b=y&c=%C3%A9"
    as_httpx = httpx.Request("POST", echo.url, json={"k": "é", "n": [1, 2.5, None]})
    assert seen["body"] == as_httpx.content.decode()  # '{"k":"é","n":[1,2.5,null]}' on 0.28
    assert seen["headers"]["content-type"] == "application/json"
    assert seen["headers"]["x-custom"] == "v"
    assert seen["headers"]["accept"] == "application/json"  # the call's, not the default


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_exactly_the_headers_httpx_sends(echo: EchoServer, method: str) -> None:
    # aiohttp adds Accept, Accept-Encoding, User-Agent and Content-Type on its own when they
    # are missing: both backends must put the same header names on the wire
    async with client_of(echo) as client:
        seen = await echoed(client, "echo", method=method)
        custom = await echoed(client, "echo", method=method, headers={"Accept": "text/csv"})
    expected = {"host", "accept", "accept-encoding", "connection", "user-agent", "authorization"}
    if method == "POST":
        expected.add("content-length")  # (an empty body: no Content-Type)
    assert set(seen["headers"]) == expected
    assert set(custom["headers"]) == expected
    assert custom["headers"]["accept"] == "text/csv"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "a\r\nInjected: 1"},  # header injection
        {"X-A": "a\nb"},
        {"X A": "b"},  # not a token
        {"X-A:": "b"},
        {"X-A": "é"},  # not ASCII (httpx would raise UnicodeEncodeError)
        {"X-A": "a\x00b"},
    ],
)
async def test_invalid_headers_are_refused_before_sending(
    echo: EchoServer, headers: dict[str, str]
) -> None:
    async with client_of(echo) as client:
        with pytest.raises(ConfigError, match="invalid") as info:
            await client.requester.request("GET", "echo", headers=headers)
    assert echo.seen == []  # nothing was sent
    assert "Injected: 1" not in str(info.value)  # the value is never quoted


async def test_gzip_answer_is_decoded(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        response = await client.requester.request("GET", "gzip")
    assert response.json() == {"packed": True}
    assert response.headers["content-encoding"] == "gzip"


async def test_response_names_its_request(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        response = await client.requester.request("GET", "echo", params={"q": "1"})
        assert response.request.method == "GET"
        assert str(response.request.url) == echo.url + "echo?q=1"
        assert response.request.headers["authorization"] == f"Bearer {TOKEN}"
        assert response.reason_phrase == "OK"
        assert response.elapsed.total_seconds() >= 0  # set, as httpx sets it on close
        assert response.num_bytes_downloaded == len(response.content)
        assert response.is_closed
        with pytest.raises(ApiError) as info:
            await client.requester.request("GET", "missing", params={"secret": "s3"})
    assert info.value.status_code == 404
    assert f"GET {echo.url}missing" in str(info.value)
    assert "no such path" in str(info.value)
    assert "s3" not in str(info.value)  # the query is never quoted


async def test_cookie_set_by_an_answer_is_sent_back(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        await client.requester.request("GET", "setcookie")
        seen = await echoed(client, "echo")
    assert seen["headers"]["cookie"] == "session=abc"


# -- redirects -----------------------------------------------------------------------------


async def test_same_origin_redirect_keeps_the_bearer(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        response = await client.requester.request("GET", "redirect?code=302&to=/echo")
    assert response.json()["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert [r.status_code for r in response.history] == [302]
    assert str(response.url) == echo.url + "echo"


async def test_redirect_to_another_origin_drops_the_bearer(
    echo: EchoServer, other_origin: EchoServer
) -> None:
    async with client_of(echo) as client:
        seen = await echoed(client, f"redirect?code=307&to={other_origin.url}echo")
    assert "authorization" not in seen["headers"]
    assert other_origin.seen == ["/echo"]


@pytest.mark.parametrize(("code", "method", "body"), [(303, "GET", ""), (307, "POST", '{"a":1}')])
async def test_redirected_post(echo: EchoServer, code: int, method: str, body: str) -> None:
    async with client_of(echo) as client:
        seen = await echoed(client, f"redirect?code={code}&to=/echo", method="POST", json={"a": 1})
    assert (seen["method"], seen["body"]) == (method, body)


@pytest.mark.parametrize("code", [307, 308])
async def test_replayed_get_sends_no_body_through_httpx(echo: EchoServer, code: int) -> None:
    # client.http (httpx over the backend's transport): a 307/308 replays the request's
    # empty body, which must stay no body (a chunked empty one broke the next request)
    async with client_of(echo) as client:
        response = await client.http.get(f"{echo.url}redirect?code={code}&to=/echo")
        again = await client.http.get(echo.url + "echo")  # the same connection, still sane
    assert response.json()["body"] == ""
    assert "transfer-encoding" not in response.json()["headers"]
    assert again.status_code == 200


async def test_redirect_loop_stops_at_the_limit(echo: EchoServer) -> None:
    async with client_of(echo) as client:
        limit = client.http.max_redirects
        with pytest.raises(TransportError) as info:
            await client.requester.request("GET", "loop")
    assert isinstance(info.value.__cause__, httpx.TooManyRedirects)
    assert len(echo.seen) == 1 + limit == 21  # the first, then httpx's 20 redirects, once


# -- downloads (streamed answers) ------------------------------------------------------------


async def download_one(client: AsyncEarthScopeClient, url: str, dest: Path) -> bytes:
    report = await client.download([(url, "got.bin")], dest)
    assert not report.failed, report.failed
    return (dest / "got.bin").read_bytes()


async def test_download_sends_the_bearer_to_its_host(echo: EchoServer, tmp_path: Path) -> None:
    async with client_of(echo) as client:
        assert await download_one(client, echo.url + "file?size=1000", tmp_path) == b"x" * 1000
    assert echo.auth == [f"Bearer {TOKEN}"]


async def test_a_cookie_set_by_a_download_answer_is_kept(echo: EchoServer, tmp_path: Path) -> None:
    # (on aiohttp a 2xx download answer skips the httpx.Response, unless it sets a cookie)
    async with client_of(echo) as client:
        assert await download_one(client, echo.url + "setcookie", tmp_path) == b"{}"
        assert client.http.cookies.get("session") == "abc"
        seen = await echoed(client, "echo")
    assert seen["headers"]["cookie"] == "session=abc"


async def test_download_redirected_to_another_origin_drops_the_bearer(
    echo: EchoServer, other_origin: EchoServer, tmp_path: Path
) -> None:
    url = f"{echo.url}redirect?code=302&to={other_origin.url}file%3Fsize%3D3000"
    async with client_of(echo) as client:
        assert await download_one(client, url, tmp_path) == b"x" * 3000
    assert echo.auth == [f"Bearer {TOKEN}"]
    assert other_origin.seen == ["/file?size=3000"]
    assert other_origin.auth == [None]  # a presigned URL elsewhere never sees the token


async def test_download_redirected_on_its_host_keeps_the_bearer(
    echo: EchoServer, tmp_path: Path
) -> None:
    async with client_of(echo) as client:
        got = await download_one(
            client, f"{echo.url}redirect?code=307&to=/file%3Fsize%3D10", tmp_path
        )
    assert got == b"x" * 10
    assert echo.auth == [f"Bearer {TOKEN}"] * 2


async def test_download_with_a_stale_token_refreshes_once(
    fake_earthscope: FakeEarthScope, tmp_path: Path
) -> None:
    url = fake_earthscope.add_file("stale.bin", size=5000)
    async with fake_client(fake_earthscope, tokens=stale_but_trusted(fake_earthscope)) as client:
        assert len(await download_one(client, url, tmp_path)) == 5000
    assert fake_earthscope.count("files") == 2
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


# -- 401: one refresh, one retry -------------------------------------------------------------


async def test_stale_token_401_refreshes_once_and_retries(fake_earthscope: FakeEarthScope) -> None:
    stale = stale_but_trusted(fake_earthscope)
    async with fake_client(fake_earthscope, tokens=stale) as client:
        profile = await client.requester.request("GET", "beta/user/profile")
    assert profile.status_code == 200
    sent = [r.headers["authorization"] for r in fake_earthscope.requests if r.endpoint == "profile"]
    assert len(sent) == 2
    assert sent[0] == f"Bearer {stale.access_token}"
    assert sent[1] != sent[0]  # the retry carries the new token, never the refused one
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


async def test_always_401_is_two_requests_then_an_error(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", status=401, headers=INVALID_TOKEN, times=10)
    async with fake_client(fake_earthscope) as client:
        with pytest.raises(ApiError) as info:
            await client.requester.request("GET", "beta/user/profile")
    assert info.value.status_code == 401
    assert fake_earthscope.count("profile") == 2
    assert fake_earthscope.count("token", grant_type="refresh_token") == 1


@pytest.mark.parametrize(
    ("status", "header"),
    [(403, 'Bearer error="insufficient_scope"'), (401, 'Bearer error="invalid_request"')],
)
async def test_no_refresh_for_other_refusals(
    fake_earthscope: FakeEarthScope, status: int, header: str
) -> None:
    fake_earthscope.add_fault("profile", status=status, headers={"WWW-Authenticate": header})
    async with fake_client(fake_earthscope) as client:
        with pytest.raises(ApiError):
            await client.requester.request("GET", "beta/user/profile", retry=False)
    assert fake_earthscope.count("profile") == 1
    assert fake_earthscope.count("token") == 0


# -- deadlines -----------------------------------------------------------------------------


async def test_trickling_answer_misses_the_deadline(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", action="drip", interval=0.05, times=5)
    policy = RetryPolicy(max_attempts=2, max_total=0.5, base_delay=0.01, max_delay=0.02)
    async with fake_client(fake_earthscope, retry=policy) as client:
        with anyio.fail_after(30), pytest.raises(TransportError, match="did not complete"):
            await client.requester.request("GET", "beta/user/profile")


async def test_a_cancelled_caller_is_cancelled_not_timed_out(
    fake_earthscope: FakeEarthScope,
) -> None:
    fake_earthscope.add_fault("profile", action="pass", delay=30)
    async with fake_client(fake_earthscope) as client:
        with anyio.move_on_after(0.2) as scope:
            await client.requester.request("GET", "beta/user/profile")
        assert scope.cancelled_caught  # the caller's cancellation, not a TransportError
        # and the client still works afterwards
        fake_earthscope.add_fault("profile", action="pass")
        assert (await client.requester.request("GET", "beta/user/profile")).status_code == 200


async def test_slow_calls_expire_alone(fake_earthscope: FakeEarthScope) -> None:
    fake_earthscope.add_fault("profile", action="drip", interval=0.05, times=2)
    policy = RetryPolicy(max_attempts=1, max_total=0.5, base_delay=0.01, max_delay=0.02)
    outcomes: list[str] = []
    async with fake_client(fake_earthscope, retry=policy) as client:

        async def call() -> None:
            try:
                await client.requester.request("GET", "beta/user/profile")
                outcomes.append("ok")
            except TransportError:
                outcomes.append("late")

        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(call)
    assert sorted(outcomes) == ["late"] * 2 + ["ok"] * 10


# -- the deadline bookkeeping (asyncio) --------------------------------------------------------


class TestDeadlines:
    """``Deadlines`` on its own (asyncio): one timer, exact expiry, cancellations told apart."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def http_backend(self) -> str:  # not about HTTP: once is enough
        return "none"

    async def test_expired_task_is_cancelled_and_told(self) -> None:
        deadlines = Deadlines()
        task = asyncio.current_task()
        assert task is not None
        deadlines.start(task, 0.05)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.sleep(10)
        assert deadlines.finish(task) is True
        assert task.cancelling() == 0  # uncancelled: the task goes on normally
        assert len(deadlines) == 0

    async def test_finished_in_time_is_not_expired(self) -> None:
        deadlines = Deadlines()
        task = asyncio.current_task()
        assert task is not None
        deadlines.start(task, 10)
        await asyncio.sleep(0)
        assert deadlines.finish(task) is False
        assert len(deadlines) == 0

    async def test_another_cancellation_is_not_taken_for_the_deadline(self) -> None:
        deadlines = Deadlines()
        caught: list[bool] = []

        async def attempt() -> None:
            task = asyncio.current_task()
            assert task is not None
            deadlines.start(task, 10)
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                caught.append(deadlines.finish(task))
                raise

        task = asyncio.ensure_future(attempt())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert caught == [False]

    async def test_deadline_and_outer_cancel_together_propagate(self) -> None:
        deadlines = Deadlines()
        caught: list[bool] = []

        async def attempt() -> None:
            task = asyncio.current_task()
            assert task is not None
            deadlines.start(task, 0.02)
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                task.cancel()  # someone else cancels too, before the attempt looks
                caught.append(deadlines.finish(task))
                raise

        with pytest.raises(asyncio.CancelledError):
            await asyncio.ensure_future(attempt())
        assert caught == [False]

    async def test_many_deadlines_one_timer_each_exact(self) -> None:
        deadlines = Deadlines()
        expired: dict[int, bool] = {}

        async def attempt(i: int, seconds: float, work: float) -> None:
            task = asyncio.current_task()
            assert task is not None
            deadlines.start(task, seconds)
            try:
                await asyncio.sleep(work)
                expired[i] = deadlines.finish(task)
            except asyncio.CancelledError:
                expired[i] = deadlines.finish(task)

        await asyncio.gather(
            attempt(0, 10, 0.01),  # a long deadline set first: the timer must move earlier
            attempt(1, 0.05, 10),  # expires
            attempt(2, 0.05, 0.0),  # done at once
            attempt(3, 0.1, 10),  # expires later
            attempt(4, 10, 0.2),  # outlives the others' deadlines
        )
        assert expired == {0: False, 1: True, 2: False, 3: True, 4: False}
        assert len(deadlines) == 0

    async def test_a_deadline_moved_later_expires_then_not_before(self) -> None:
        deadlines = Deadlines()
        task = asyncio.current_task()
        assert task is not None
        loop = task.get_loop()
        due = deadlines.until(task, loop.time() + 0.02)
        moved = due.when = loop.time() + 0.2  # the timer, set for the first time, fires early
        with pytest.raises(asyncio.CancelledError):
            await asyncio.sleep(10)
        assert loop.time() >= moved - 0.001  # (a timer may run a clock tick early)
        assert deadlines.finish(task) is True and due.expired

    async def test_sooner_brings_the_timer_forward(self) -> None:
        deadlines = Deadlines()
        task = asyncio.current_task()
        assert task is not None
        deadlines.start(task, 60)
        deadlines.sooner(task, task.get_loop().time() + 0.02)
        with pytest.raises(asyncio.CancelledError):
            await asyncio.sleep(10)  # (a minute without the call)
        assert deadlines.finish(task) is True

    async def test_expire_callback_runs_instead_of_a_cancel(self) -> None:
        deadlines = Deadlines()
        task = asyncio.current_task()
        assert task is not None
        fired = asyncio.Event()
        due = deadlines.start(task, 0.02)
        due.expire = fired.set
        await fired.wait()  # not cancelled: the callback ran
        assert due.expired and task.cancelling() == 0
        await asyncio.sleep(0.05)  # the expired deadline does not fire again
        assert deadlines.finish(task) is False
        assert len(deadlines) == 0


# -- when the direct path applies --------------------------------------------------------------


async def test_direct_route_on_aiohttp_only(echo: EchoServer, http_backend: str) -> None:
    async with client_of(echo) as client:
        route = direct_route(client.http)
        assert (route is not None) == (http_backend == "aiohttp")
        await client.requester.request("GET", "setcookie")
        assert direct_route(client.http) is None  # a cookie in the jar: httpx sends it


async def test_a_client_brought_by_the_caller_goes_through_httpx(echo: EchoServer) -> None:
    store = MemoryTokenStore(Tokens(access_token=TOKEN, expires_at=FUTURE))
    async with httpx.AsyncClient() as own:
        client = AsyncEarthScopeClient(
            Settings(api_url=echo.url, domain=echo.url), store=store, http_client=own
        )
        async with client:
            assert direct_route(client.http) is None
            seen = await echoed(client, "echo")
    assert "authorization" not in seen["headers"]  # the caller's client, the caller's auth
