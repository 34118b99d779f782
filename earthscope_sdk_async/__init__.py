"""earthscope-sdk-async: the async-first SDK for authenticating with, and calling, EarthScope.

The public API is what this module exports; everything in ``_modules`` is private. Names are
imported lazily on first use (PEP 562), so that ``import earthscope_sdk_async`` and the
command line start fast: a command that only prints a fresh token never imports httpx.

One table, :data:`_HOMES`, says where every public name lives: the lazy loader reads it and
``__all__`` is derived from it. Static type checkers cannot run code, so the
``TYPE_CHECKING`` imports below spell the same table out literally;
``tests/test_public_api.py`` checks that the two agree. To add a public name, add it to both.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from ._auth import EarthScopeAuth as EarthScopeAuth
    from ._client import AsyncEarthScopeClient as AsyncEarthScopeClient
    from ._client import AwsCredentials as AwsCredentials
    from ._client import AwsCredentialsRequest as AwsCredentialsRequest
    from ._client import AwsTemporaryCredentials as AwsTemporaryCredentials
    from ._client import EarthScopeClient as EarthScopeClient
    from ._client import SyncDropoffService as SyncDropoffService
    from ._client import SyncUserService as SyncUserService
    from ._client import UserProfile as UserProfile
    from ._client import UserService as UserService
    from ._clock import Clock as Clock
    from ._clock import SystemClock as SystemClock
    from ._data import AsyncGnssEphemerisPositionsQueryPlan as AsyncGnssEphemerisPositionsQueryPlan
    from ._data import (
        AsyncGnssInstantaneousPositionsQueryPlan as AsyncGnssInstantaneousPositionsQueryPlan,
    )
    from ._data import AsyncGnssObservationsQueryPlan as AsyncGnssObservationsQueryPlan
    from ._data import DataService as DataService
    from ._data import FloatFilter as FloatFilter
    from ._data import GeodeticCoordinate as GeodeticCoordinate
    from ._data import GnssEphemerisPositionsQueryPlan as GnssEphemerisPositionsQueryPlan
    from ._data import GnssInstantaneousPositionsQueryPlan as GnssInstantaneousPositionsQueryPlan
    from ._data import GnssObservationsQueryPlan as GnssObservationsQueryPlan
    from ._data import MemoryLimitExceededError as MemoryLimitExceededError
    from ._data import ParquetReport as ParquetReport
    from ._data import QueryPlanLimitError as QueryPlanLimitError
    from ._data import SatelliteSystem as SatelliteSystem
    from ._data import SyncDataService as SyncDataService
    from ._data import SyncDiscoveryService as SyncDiscoveryService
    from ._data import TimeoutExceededError as TimeoutExceededError
    from ._discover import DiscoveryLimitWarning as DiscoveryLimitWarning
    from ._discover import DiscoveryService as DiscoveryService
    from ._discover import NetworkDatasource as NetworkDatasource
    from ._discover import SessionDatasource as SessionDatasource
    from ._discover import StationDatasource as StationDatasource
    from ._discover import StreamDatasource as StreamDatasource
    from ._discover import StreamType as StreamType
    from ._download import DownloadProgress as DownloadProgress
    from ._download import DownloadReport as DownloadReport
    from ._download import DownloadResult as DownloadResult
    from ._dropoff import DropoffCategory as DropoffCategory
    from ._dropoff import DropoffError as DropoffError
    from ._dropoff import DropoffObject as DropoffObject
    from ._dropoff import DropoffOptions as DropoffOptions
    from ._dropoff import DropoffService as DropoffService
    from ._dropoff import DropoffStatusCount as DropoffStatusCount
    from ._dropoff import DropoffSummary as DropoffSummary
    from ._dropoff import DuplicateDestinationError as DuplicateDestinationError
    from ._dropoff import FileValidationError as FileValidationError
    from ._dropoff import Page as Page
    from ._dropoff import PartSizeError as PartSizeError
    from ._dropoff import UploadBatchError as UploadBatchError
    from ._dropoff import UploadCandidate as UploadCandidate
    from ._dropoff import UploadError as UploadError
    from ._dropoff import UploadResult as UploadResult
    from ._dropoff import UploadStatus as UploadStatus
    from ._dropoff import build_key as build_key
    from ._dropoff import collect_and_validate_files as collect_and_validate_files
    from ._dropoff import collect_files as collect_files
    from ._dropoff import validate_files as validate_files
    from ._dropoff import validate_one as validate_one
    from ._errors import AccessDeniedError as AccessDeniedError
    from ._errors import ApiError as ApiError
    from ._errors import AwsRoleDeniedError as AwsRoleDeniedError
    from ._errors import ClientClosedError as ClientClosedError
    from ._errors import ConfigError as ConfigError
    from ._errors import DeviceCodeExpiredError as DeviceCodeExpiredError
    from ._errors import DownloadError as DownloadError
    from ._errors import EarthScopeError as EarthScopeError
    from ._errors import InvalidClientError as InvalidClientError
    from ._errors import InvalidResponseError as InvalidResponseError
    from ._errors import LoginRequiredError as LoginRequiredError
    from ._errors import OAuthError as OAuthError
    from ._errors import OAuthServerError as OAuthServerError
    from ._errors import RateLimitError as RateLimitError
    from ._errors import S3Error as S3Error
    from ._errors import TokenStoreError as TokenStoreError
    from ._errors import TransportError as TransportError
    from ._flows import ClientCredentialsFlow as ClientCredentialsFlow
    from ._flows import DeviceCode as DeviceCode
    from ._flows import DeviceCodeFlow as DeviceCodeFlow
    from ._flows import Prompt as Prompt
    from ._flows import refresh_tokens as refresh_tokens
    from ._flows import revoke_token as revoke_token
    from ._manager import TokenManager as TokenManager
    from ._retry import RetryPolicy as RetryPolicy
    from ._settings import Settings as Settings
    from ._stores import EnvTokenStore as EnvTokenStore
    from ._stores import FileTokenStore as FileTokenStore
    from ._stores import KeyringTokenStore as KeyringTokenStore
    from ._stores import MemoryTokenStore as MemoryTokenStore
    from ._stores import OnSave as OnSave
    from ._stores import RedisTokenStore as RedisTokenStore
    from ._stores import TokenStore as TokenStore
    from ._tokens import Tokens as Tokens

from ._version import __version__ as __version__

_HOMES = {
    "AsyncGnssEphemerisPositionsQueryPlan": "._data",
    "AsyncGnssInstantaneousPositionsQueryPlan": "._data",
    "AsyncGnssObservationsQueryPlan": "._data",
    "DataService": "._data",
    "FloatFilter": "._data",
    "GeodeticCoordinate": "._data",
    "GnssEphemerisPositionsQueryPlan": "._data",
    "GnssInstantaneousPositionsQueryPlan": "._data",
    "GnssObservationsQueryPlan": "._data",
    "MemoryLimitExceededError": "._data",
    "ParquetReport": "._data",
    "QueryPlanLimitError": "._data",
    "SatelliteSystem": "._data",
    "SyncDataService": "._data",
    "SyncDiscoveryService": "._data",
    "TimeoutExceededError": "._data",
    "DiscoveryLimitWarning": "._discover",
    "DiscoveryService": "._discover",
    "NetworkDatasource": "._discover",
    "SessionDatasource": "._discover",
    "StationDatasource": "._discover",
    "StreamDatasource": "._discover",
    "StreamType": "._discover",
    "EarthScopeAuth": "._auth",
    "AsyncEarthScopeClient": "._client",
    "AwsCredentials": "._client",
    "AwsCredentialsRequest": "._client",
    "AwsTemporaryCredentials": "._client",
    "EarthScopeClient": "._client",
    "SyncDropoffService": "._client",
    "SyncUserService": "._client",
    "UserProfile": "._client",
    "UserService": "._client",
    "DropoffCategory": "._dropoff",
    "DropoffError": "._dropoff",
    "DropoffObject": "._dropoff",
    "DropoffOptions": "._dropoff",
    "DropoffService": "._dropoff",
    "DropoffStatusCount": "._dropoff",
    "DropoffSummary": "._dropoff",
    "DuplicateDestinationError": "._dropoff",
    "FileValidationError": "._dropoff",
    "Page": "._dropoff",
    "PartSizeError": "._dropoff",
    "UploadBatchError": "._dropoff",
    "UploadCandidate": "._dropoff",
    "UploadError": "._dropoff",
    "UploadResult": "._dropoff",
    "UploadStatus": "._dropoff",
    "build_key": "._dropoff",
    "collect_and_validate_files": "._dropoff",
    "collect_files": "._dropoff",
    "validate_files": "._dropoff",
    "validate_one": "._dropoff",
    "DownloadProgress": "._download",
    "DownloadReport": "._download",
    "DownloadResult": "._download",
    "RetryPolicy": "._retry",
    "Clock": "._clock",
    "SystemClock": "._clock",
    "AccessDeniedError": "._errors",
    "ApiError": "._errors",
    "AwsRoleDeniedError": "._errors",
    "S3Error": "._errors",
    "ClientClosedError": "._errors",
    "ConfigError": "._errors",
    "DeviceCodeExpiredError": "._errors",
    "DownloadError": "._errors",
    "EarthScopeError": "._errors",
    "InvalidClientError": "._errors",
    "InvalidResponseError": "._errors",
    "LoginRequiredError": "._errors",
    "OAuthError": "._errors",
    "OAuthServerError": "._errors",
    "RateLimitError": "._errors",
    "TokenStoreError": "._errors",
    "TransportError": "._errors",
    "ClientCredentialsFlow": "._flows",
    "DeviceCode": "._flows",
    "DeviceCodeFlow": "._flows",
    "Prompt": "._flows",
    "refresh_tokens": "._flows",
    "revoke_token": "._flows",
    "TokenManager": "._manager",
    "Settings": "._settings",
    "EnvTokenStore": "._stores",
    "FileTokenStore": "._stores",
    "KeyringTokenStore": "._stores",
    "MemoryTokenStore": "._stores",
    "OnSave": "._stores",
    "RedisTokenStore": "._stores",
    "TokenStore": "._stores",
    "Tokens": "._tokens",
}
"""Every public name (but ``__version__``) and the private module it is imported from."""

__all__ = sorted([*_HOMES, "__version__"])


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
