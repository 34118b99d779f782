"""Data access: ``client.data``, its query plans, models and errors."""

from ._errors import MemoryLimitExceededError as MemoryLimitExceededError
from ._errors import QueryPlanLimitError as QueryPlanLimitError
from ._errors import TimeoutExceededError as TimeoutExceededError
from ._models import FloatFilter as FloatFilter
from ._models import GeodeticCoordinate as GeodeticCoordinate
from ._models import SatelliteSystem as SatelliteSystem
from ._models import TimePeriod as TimePeriod
from ._parquet import ParquetReport as ParquetReport
from ._plans import AsyncGnssEphemerisPositionsQueryPlan as AsyncGnssEphemerisPositionsQueryPlan
from ._plans import (
    AsyncGnssInstantaneousPositionsQueryPlan as AsyncGnssInstantaneousPositionsQueryPlan,
)
from ._plans import AsyncGnssObservationsQueryPlan as AsyncGnssObservationsQueryPlan
from ._service import DataService as DataService
from ._sync import GnssEphemerisPositionsQueryPlan as GnssEphemerisPositionsQueryPlan
from ._sync import GnssInstantaneousPositionsQueryPlan as GnssInstantaneousPositionsQueryPlan
from ._sync import GnssObservationsQueryPlan as GnssObservationsQueryPlan
from ._sync import QueryPlan as QueryPlan
from ._sync import SyncDataService as SyncDataService
from ._sync import SyncDiscoveryService as SyncDiscoveryService
