"""FakeEarthScope: the public face of the fake server (configuration, scripting, inspection)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

import anyio

from .._settings import Settings
from .._tokens import Tokens
from ._app import App
from ._aws import AwsRoles
from ._catalogue import Catalogue
from ._device import DeviceCodeInfo, DeviceCodes
from ._dropoff import DropoffRegistry, FakeDropoffObject, user_prefix
from ._faults import FaultAction, FaultQueue, make_fault
from ._files import FileStore
from ._idp import TokenAuthority
from ._log import RecordedRequest, RequestLog
from ._oauth import OAuthEndpoints
from ._routes import Router
from ._server import HttpServer

__all__ = ["FakeEarthScope"]

DEFAULT_CLIENT_ID = "b9DtAFBd6QvMg761vI3YhYquNZbJX5G0"
DEFAULT_MACHINE_CLIENTS = {"fake-m2m-client": "fake-m2m-secret"}
USER_SCOPE = "openid profile email offline_access"


class FakeEarthScope:
    """A fake EarthScope (Auth0 tenant + API + file server) on a real loopback socket.

    Start it with ``with``/``async with`` or :meth:`start`; it serves from its own thread, so
    callers may be asyncio, trio or blocking sync code. See the package docs for the endpoints.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = DEFAULT_CLIENT_ID,
        machine_clients: Mapping[str, str] | None = None,
        audience: str = "https://api.earthscope.org",
        access_token_lifetime: float = 3600.0,
        rotation: bool = True,
        reuse_detection: bool = True,
        device_interval: float = 5.0,
        device_expires_in: float = 900.0,
        time_scale: float = 1.0,
        latency: float = 0.0,
        auto_approve_after: int | None = None,
    ) -> None:
        if not time_scale > 0 or latency < 0 or access_token_lifetime < 0:
            raise ValueError("time_scale must be > 0; latency and access_token_lifetime >= 0")
        self.client_id = client_id
        self.machine_clients = dict(
            DEFAULT_MACHINE_CLIENTS if machine_clients is None else machine_clients
        )
        self.audience = audience
        self._authority = TokenAuthority(
            audience=audience,
            lifetime=access_token_lifetime,
            rotation=rotation,
            reuse_detection=reuse_detection,
        )
        self._devices = DeviceCodes(
            interval=device_interval,
            expires_in=device_expires_in,
            time_scale=time_scale,
            auto_approve_after=auto_approve_after,
        )
        self._files = FileStore()
        self._log = RequestLog()
        self._faults = FaultQueue()
        oauth = OAuthEndpoints(
            authority=self._authority,
            devices=self._devices,
            client_id=client_id,
            machine_clients=self.machine_clients,
        )
        self._dropoff = DropoffRegistry()
        self.aws = AwsRoles()
        """The AWS credentials service: ``aws.roles`` (others answer 403), ``aws.lifetime``
        (seconds), ``aws.minter`` (mints real keys, e.g. for an S3 test server), ``aws.clock``
        and ``aws.issued`` (every issue: role, parameters, access key id, expiration)."""
        self._router = Router(
            oauth=oauth,
            authority=self._authority,
            files=self._files,
            aws=self.aws,
            dropoff=self._dropoff,
        )
        self._app = App(router=self._router, log=self._log, faults=self._faults)
        self._app.latency = latency
        self._server = HttpServer(self._app, host=host, port=port)

    def __repr__(self) -> str:
        where = self.url if self._server.running else "stopped"
        return f"<FakeEarthScope {where}>"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeEarthScope:
        """Start serving (idempotent); returns ``self``."""
        if not self._server.running:
            self._server.start()
            host = self._server.host
            host = f"[{host}]" if ":" in host else host
            base = f"http://{host}:{self._server.port}/"
            self._authority.issuer = base
            self._router.base_url = base
        return self

    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        self._server.stop()

    def __enter__(self) -> FakeEarthScope:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeEarthScope:
        return await anyio.to_thread.run_sync(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await anyio.to_thread.run_sync(self.stop)

    # -- addresses and settings ------------------------------------------------------------

    @property
    def catalogue(self) -> Catalogue:
        """The datasources served by discovery and the data products (add stations to it)."""
        return self._router.catalogue

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/``: the issuer, the API base and the file server."""
        if not self._authority.issuer:
            raise RuntimeError(
                "the fake EarthScope is not started: use `with fake:` or fake.start()"
            )
        return self._authority.issuer

    @property
    def issuer(self) -> str:
        """The token issuer (same as :attr:`url`)."""
        return self.url

    @property
    def api_url(self) -> str:
        """The API base URL (same as :attr:`url`)."""
        return self.url

    def settings(self, **overrides: Any) -> Settings:
        """Settings for the device (public) client pointed at this server."""
        values: dict[str, Any] = {
            "domain": self.url,
            "api_url": self.url,
            "audience": self.audience,
            "client_id": self.client_id,
        }
        values.update(overrides)
        return Settings(**values)

    def machine_settings(self, **overrides: Any) -> Settings:
        """Settings for the first machine client (client credentials)."""
        if not self.machine_clients:
            raise ValueError("this fake has no machine clients")
        client_id, secret = next(iter(self.machine_clients.items()))
        return self.settings(**{"client_id": client_id, "client_secret": secret, **overrides})

    # -- device flow ----------------------------------------------------------------------

    def approve(self, user_code: str | None = None) -> int:
        """Approve a pending device code (``None``: every pending one); returns how many."""
        return self._devices.set_status(user_code, "approved")

    def deny(self, user_code: str | None = None) -> int:
        """Deny a pending device code (``None``: every pending one); returns how many."""
        return self._devices.set_status(user_code, "denied")

    def expire(self, user_code: str | None = None) -> int:
        """Expire a pending device code (``None``: every pending one); returns how many."""
        return self._devices.set_status(user_code, "expired")

    @property
    def device_codes(self) -> list[DeviceCodeInfo]:
        """Every device code issued so far, oldest first."""
        return self._devices.infos()

    # -- tokens ----------------------------------------------------------------------------

    def issue_tokens(
        self,
        *,
        lifetime: float | None = None,
        scope: str | None = None,
        sub: str = "auth0|fake-user",
        refresh: bool = True,
    ) -> Tokens:
        """Tokens as a device login would produce them (a new refresh-token family)."""
        self.url  # noqa: B018 - raises when not started: tokens need the issuer
        scope = USER_SCOPE if scope is None else scope
        words = scope.split()
        if refresh and "offline_access" not in words:
            scope = " ".join([*words, "offline_access"])
        payload = self._authority.user_tokens(
            client_id=self.client_id,
            sub=sub,
            scope=scope,
            audience=self.audience,
            lifetime=lifetime,
        )
        expires_at = datetime.now(timezone.utc) + timedelta(seconds=float(payload["expires_in"]))
        return Tokens(
            access_token=payload["access_token"],
            refresh_token=payload.get("refresh_token") if refresh else None,
            id_token=payload.get("id_token"),
            scope=scope,
            expires_at=expires_at,
        )

    def revoke_family(self, refresh_token: str) -> None:
        """Revoke the family of ``refresh_token``: its refresh and access tokens stop working."""
        if not self._authority.revoke(refresh_token):
            raise ValueError("unknown refresh token: it was not issued by this fake")

    @property
    def refresh_count(self) -> int:
        """Successful ``refresh_token`` grants."""
        return self._authority.refresh_count

    @property
    def reuse_detections(self) -> int:
        """Times an already rotated refresh token was presented."""
        return self._authority.reuse_detections

    @property
    def client_credentials_count(self) -> int:
        """Successful ``client_credentials`` grants."""
        return self._authority.client_credentials_count

    @property
    def clock_offset(self) -> float:
        """Seconds added to ``iat``/``exp`` of tokens issued from now on (simulated skew)."""
        return self._authority.clock_offset

    @clock_offset.setter
    def clock_offset(self, value: float) -> None:
        self._authority.clock_offset = float(value)

    @property
    def latency(self) -> float:
        """Seconds slept before answering every API and file request."""
        return self._app.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._app.latency = float(value)

    # -- files -----------------------------------------------------------------------------

    def add_file(
        self,
        path: str,
        data: bytes | None = None,
        *,
        size: int | None = None,
        accept_ranges: bool = True,
        etag: bool = True,
    ) -> str:
        """Serve ``data`` (or ``size`` generated bytes) at ``files/<path>``; returns its URL."""
        self._files.add(path, data, size=size, ranges=accept_ranges, etag=etag)
        return self.file_url(path)

    def file_url(self, path: str) -> str:
        """The absolute URL of ``files/<path>``."""
        return f"{self.url}files/{path.lstrip('/')}"

    def file_bytes(self, path: str, start: int = 0, end: int | None = None) -> bytes:
        """The bytes a file serves from ``start`` to ``end`` (exclusive; ``None``: the end)."""
        try:
            stored = self._files.get(path)
        except KeyError:
            raise ValueError(f"no file at {path!r}; add it with add_file()") from None
        return stored.read(start, stored.size if end is None else end)

    # -- dropoff ---------------------------------------------------------------------------

    def watch_dropoff_bucket(self, endpoint_url: str, bucket: str, s3_client: Any = None) -> None:
        """Report objects uploaded to ``bucket`` on a local S3 server (e.g. moto's) through
        the dropoff routes: each new object or version is a ``received`` submission.
        ``s3_client`` (a boto3 S3 client) reads a server that checks signatures."""
        self._dropoff.watch_s3(endpoint_url, bucket, s3_client)

    def add_dropoff_object(
        self,
        key: str,
        data: bytes = b"",
        *,
        category: str = "miniseed",
        sub: str = "auth0|fake-user",
        status: str = "received",
        status_message: str | None = None,
        received_at: datetime | None = None,
    ) -> None:
        """Record a submission of ``data`` as ``key`` by the user ``sub``."""
        import hashlib

        self._dropoff.add(
            FakeDropoffObject(
                category=category,
                user=user_prefix(sub),
                path=key,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                received_at=received_at or datetime.now(timezone.utc),
                status=status,
                status_message=status_message,
            )
        )

    def set_dropoff_status(self, key: str, status: str, message: str | None = None) -> int:
        """Set the status of the latest submission of ``key``; returns how many changed."""
        return self._dropoff.set_status(key, status, message)

    @property
    def dropoff_objects(self) -> list[FakeDropoffObject]:
        """Every dropoff submission so far, oldest first."""
        return self._dropoff.snapshot()

    # -- faults and the request log --------------------------------------------------------

    def add_fault(
        self,
        endpoint: str,
        *,
        status: int = 500,
        body: bytes | str | None = None,
        json: object | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        action: FaultAction = "respond",
        times: int = 1,
        match: Callable[[RecordedRequest], bool] | None = None,
        interval: float = 0.0,
        extra: int = 0,
    ) -> None:
        """Script a fault for the next ``times`` requests to ``endpoint`` (FIFO).

        ``endpoint`` is a name (``discovery``, ``device_code``, ``token``, ``revoke``,
        ``userinfo``, ``profile``, ``files``, ``api`` = any API path) or a literal ``/path``;
        ``match`` narrows it further. After sleeping ``delay`` seconds, ``action``:

        - ``respond``: answer ``status`` with ``body``/``json`` and ``headers`` instead;
        - ``pass``: run the normal handler (a pure delay);
        - ``drop``: close the connection with a TCP RST, without any response;
        - ``drop_after_commit``: run the normal handler (commit a rotation...), then drop;
        - ``truncate``: send the normal response with half its body, then close (FIN);
        - ``reset_mid_body``: like ``truncate`` but close with a RST;
        - ``drip``: send the normal headers at once, then the body one byte every
          ``interval`` seconds (a server too slow for any overall deadline, yet never idle
          for a whole read timeout);
        - ``drip_headers``: send the status line and headers one byte every ``interval``
          seconds, then the body;
        - ``gzip``: send the normal body gzip-compressed (``Content-Encoding: gzip``), whatever
          the request's ``Accept-Encoding`` said;
        - ``overlong``: send the normal body followed by ``extra`` more bytes (default: as many
          again), chunked, without a ``Content-Length``.
        """
        self._faults.add(
            make_fault(
                endpoint,
                status=status,
                body=body,
                json=json,
                headers=headers,
                delay=delay,
                action=action,
                times=times,
                match=match,
                interval=interval,
                extra=extra,
            )
        )

    def clear_faults(self) -> None:
        """Remove every scripted fault that has not fired yet."""
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many scripted faults have uses left."""
        return self._faults.pending()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the request log, oldest first."""
        return self._log.snapshot()

    def count(self, endpoint: str, *, grant_type: str | None = None) -> int:
        """How many requests hit ``endpoint`` (a name, ``"api"`` or a ``/path``)."""
        return self._log.count(endpoint, grant_type=grant_type)

    def clear_log(self) -> None:
        """Forget every recorded request."""
        self._log.clear()
