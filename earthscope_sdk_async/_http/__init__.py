"""How services reach the EarthScope API: the :class:`Requester` and the one place API
answers and httpx errors become ours (:mod:`._send`). Retrying itself is the engine in
:mod:`earthscope_sdk_async._retry`, shared with downloads and token requests."""

from ._requester import Requester as Requester

__all__ = ["Requester"]
