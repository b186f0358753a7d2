"""What every service of one server shares: settings, store, events, blobs, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.config import Settings
from maestro_grpc.events import EventBus, InProcessBus
from maestro_grpc.store.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    events: EventBus = field(default_factory=InProcessBus)
    blobs: Any = None
    clock: Clock = utcnow
    # Where services register their own Prometheus collectors (None: nowhere).
    prometheus: Any = None
    # Background tasks a service starts; the server cancels them on stop.
    background: list[Any] = field(default_factory=list)
