"""Compatibility layer for code written against ``earthscope-sdk`` 0.2.1.

Change one import and keep the rest of the program::

    # before
    from earthscope_sdk.auth.device_code_flow import DeviceCodeFlowSimple
    # after
    from .auth.device_code_flow import DeviceCodeFlowSimple

The submodules mirror 0.2.1's: :mod:`.auth.auth_flow`, :mod:`.auth.device_code_flow`,
:mod:`.auth.client_credentials_flow` and :mod:`.user.user` (with 0.2.0's ``lookup_anon``).
Names, signatures, defaults and the subclass hooks (``load_tokens``, ``save_tokens``,
``prompt_user``) are those of 0.2.1; the work is done by the async engine (RFC 8628 polling,
timeouts, typed errors, atomic 0600 token files) on one shared background event-loop thread.
Every compat error is also an :class:`earthscope_sdk_async.EarthScopeError`. The behaviour
changes that come from bug fixes are listed in ``docs/migration.md``.
"""

from __future__ import annotations

__all__: list[str] = []
