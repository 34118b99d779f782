"""The 0.2.1 ``earthscope_sdk.auth`` package: see its submodules.

:mod:`.auth_flow` (the ``AuthFlow`` base class and its errors), :mod:`.device_code_flow`
(people) and :mod:`.client_credentials_flow` (machines).
"""

from __future__ import annotations

__all__: list[str] = []
