"""pytest fixtures for testing code that uses earthscope-sdk-async.

The fixtures are synchronous, so they work with any async backend. Importing this plugin is
cheap: the server is imported only when a fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .._settings import Settings
    from ._fake import FakeEarthScope

__all__ = ["fake_earthscope", "fake_earthscope_settings"]


@pytest.fixture
def fake_earthscope() -> Iterator[FakeEarthScope]:
    """A started :class:`~earthscope_sdk_async.testing.FakeEarthScope`, stopped afterwards."""
    from ._fake import FakeEarthScope

    with FakeEarthScope() as fake:
        yield fake


@pytest.fixture
def fake_earthscope_settings(fake_earthscope: FakeEarthScope) -> Settings:
    """Settings (device client) pointing at the ``fake_earthscope`` server."""
    return fake_earthscope.settings()
