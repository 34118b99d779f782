"""The clients: :class:`AsyncEarthScopeClient` (the main object), the sync facade
:class:`EarthScopeClient`, and their services."""

from .._aws import AwsCredentials as AwsCredentials
from .._aws import AwsCredentialsRequest as AwsCredentialsRequest
from .._aws import AwsTemporaryCredentials as AwsTemporaryCredentials
from .._download import DownloadProgress as DownloadProgress
from .._download import DownloadReport as DownloadReport
from .._download import DownloadResult as DownloadResult
from .._retry import RetryPolicy as RetryPolicy
from ._async_client import AsyncEarthScopeClient as AsyncEarthScopeClient
from ._profile import UserProfile as UserProfile
from ._sync_client import EarthScopeClient as EarthScopeClient
from ._sync_client import SyncDropoffService as SyncDropoffService
from ._sync_client import SyncUserService as SyncUserService
from ._user import UserService as UserService

__all__ = [
    "AsyncEarthScopeClient",
    "AwsCredentials",
    "AwsCredentialsRequest",
    "AwsTemporaryCredentials",
    "DownloadProgress",
    "DownloadReport",
    "DownloadResult",
    "EarthScopeClient",
    "RetryPolicy",
    "SyncDropoffService",
    "SyncUserService",
    "UserProfile",
    "UserService",
]
