"""Artifact content stores: local files (embedded default) or S3 (issue #6)."""

from __future__ import annotations

from typing import Any

from maestro_grpc.config import Settings


def create_blob_store(settings: Settings) -> Any:
    """The blob store for this deployment; issue #6 implements it."""
    return None
