"""Every table of every context on the one MetaData: for migrations, tools and tests.

Nothing at run time needs this: each context's store imports its own tables.
"""

from __future__ import annotations

from maestro_grpc.access.store import tables as access_tables
from maestro_grpc.metrics.store import tables as metrics_tables
from maestro_grpc.people.store import tables as people_tables
from maestro_grpc.prediction.store import tables as prediction_tables
from maestro_grpc.registry.store import tables as registry_tables
from maestro_grpc.store.schema import metadata

__all__ = [
    "access_tables",
    "metadata",
    "metrics_tables",
    "people_tables",
    "prediction_tables",
    "registry_tables",
]
