"""Device codes (RFC 8628): creation, scripted approval, polling with slow_down and expiry."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal

__all__ = ["DeviceCode", "DeviceCodeInfo", "DeviceCodes", "PollOutcome"]

Status = Literal["pending", "approved", "denied", "expired", "consumed"]
PollOutcome = Literal[
    "ok", "authorization_pending", "slow_down", "access_denied", "expired_token", "invalid_grant"
]
_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


@dataclass(frozen=True)
class DeviceCodeInfo:
    """A device code as tests see it (the secret ``device_code`` is not included)."""

    user_code: str
    status: Status
    interval: float
    """The current polling interval, grown by 5 on every ``slow_down``."""
    client_id: str
    scope: str
    audience: str | None
    pending_polls: int


@dataclass
class DeviceCode:
    """Server-side state of one device code."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    audience: str | None
    interval: float
    deadline: float
    status: Status = "pending"
    pending_polls: int = 0
    last_response: float | None = None

    def info(self) -> DeviceCodeInfo:
        """A snapshot for tests."""
        return DeviceCodeInfo(
            self.user_code,
            self.status,
            self.interval,
            self.client_id,
            self.scope,
            self.audience,
            self.pending_polls,
        )


def normalize_user_code(user_code: str) -> str:
    """``abcd efgh`` / ``ABCDEFGH`` -> ``ABCD-EFGH``."""
    letters = "".join(c for c in user_code.upper() if c.isalnum())
    return f"{letters[:4]}-{letters[4:]}"


class DeviceCodes:
    """All device codes of one server; thread-safe."""

    def __init__(
        self,
        *,
        interval: float,
        expires_in: float,
        time_scale: float,
        auto_approve_after: int | None,
    ) -> None:
        self.interval = interval
        self.expires_in = expires_in
        self.time_scale = time_scale
        self.auto_approve_after = auto_approve_after
        self._lock = threading.Lock()
        self._by_device: dict[str, DeviceCode] = {}
        self._by_user: dict[str, DeviceCode] = {}

    def create(self, client_id: str, scope: str, audience: str | None) -> DeviceCode:
        """A new pending code."""
        with self._lock:
            user_code = ""
            while not user_code or user_code in self._by_user:
                letters = "".join(secrets.choice(_ALPHABET) for _ in range(8))
                user_code = normalize_user_code(letters)
            deadline = time.monotonic() + self.expires_in * self.time_scale
            code = DeviceCode(
                secrets.token_urlsafe(32),
                user_code,
                client_id,
                scope,
                audience,
                self.interval,
                deadline,
            )
            self._by_device[code.device_code] = code
            self._by_user[user_code] = code
            return code

    def _expire_if_due(self, code: DeviceCode) -> None:
        if code.status in ("pending", "approved", "denied") and time.monotonic() >= code.deadline:
            code.status = "expired"

    def poll(
        self, device_code: str, client_id: str, started: float
    ) -> tuple[PollOutcome, DeviceCode | None]:
        """Judge one poll that arrived at ``started`` (time.monotonic())."""
        with self._lock:
            code = self._by_device.get(device_code)
            if code is None or code.client_id != client_id or code.status == "consumed":
                return "invalid_grant", None
            self._expire_if_due(code)
            if code.status == "expired":
                return "expired_token", code
            last = code.last_response
            if last is not None and started - last < code.interval * self.time_scale:
                code.interval += 5
                return "slow_down", code
            return self._judge(code), code

    def _judge(self, code: DeviceCode) -> PollOutcome:
        if code.status == "denied":
            return "access_denied"
        if code.status == "pending":
            auto = self.auto_approve_after
            if auto is None or code.pending_polls < auto:
                code.pending_polls += 1
                return "authorization_pending"
        code.status = "consumed"
        return "ok"

    def responded(self, code: DeviceCode) -> None:
        """Note that a poll on ``code`` was answered now (C10 spacing starts here)."""
        with self._lock:
            code.last_response = time.monotonic()

    def set_status(self, user_code: str | None, status: Status) -> int:
        """Move one (or, for ``None``, every pending) code from pending to ``status``."""
        with self._lock:
            if user_code is None:
                targets = [c for c in self._by_user.values() if self._still_pending(c)]
            else:
                code = self._by_user.get(normalize_user_code(user_code))
                if code is None:
                    raise ValueError(f"no device code with user_code {user_code!r}")
                if not self._still_pending(code):
                    raise ValueError(f"device code {code.user_code} is {code.status}, not pending")
                targets = [code]
            for code in targets:
                code.status = status
            return len(targets)

    def _still_pending(self, code: DeviceCode) -> bool:
        self._expire_if_due(code)
        return code.status == "pending"

    def infos(self) -> list[DeviceCodeInfo]:
        """Snapshots of every code, oldest first."""
        with self._lock:
            for code in self._by_user.values():
                self._expire_if_due(code)
            return [c.info() for c in self._by_user.values()]
