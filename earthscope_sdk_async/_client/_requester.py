"""Re-export: the requester lives in :mod:`earthscope_sdk_async._http` now."""

from .._http._requester import Requester as Requester

__all__ = ["Requester"]
