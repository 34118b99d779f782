"""Discovery: ``client.discover`` and its models."""

from ._models import (
    NetworkDatasource as NetworkDatasource,
)
from ._models import (
    Page as Page,
)
from ._models import (
    ProcessingFacility as ProcessingFacility,
)
from ._models import (
    SessionDatasource as SessionDatasource,
)
from ._models import (
    StationDatasource as StationDatasource,
)
from ._models import (
    StreamDatasource as StreamDatasource,
)
from ._models import (
    StreamSoftware as StreamSoftware,
)
from ._models import (
    StreamType as StreamType,
)
from ._service import DiscoveryLimitWarning as DiscoveryLimitWarning
from ._service import DiscoveryService as DiscoveryService
