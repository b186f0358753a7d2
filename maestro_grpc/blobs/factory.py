"""The blob store the settings name."""

from __future__ import annotations

from maestro_grpc.blobs.base import BlobStore, ReadBudget
from maestro_grpc.blobs.local import LocalBlobStore
from maestro_grpc.blobs.s3 import S3BlobStore
from maestro_grpc.config import ConfigError, Settings


def create_blob_store(settings: Settings) -> BlobStore:
    """S3 when MAESTRO_S3_BUCKET is set, otherwise files in the data dir; their reads
    together read ahead within MAESTRO_LIMIT_DOWNLOAD_BUFFER_BYTES."""
    budget = ReadBudget(settings.limits.download_buffer_bytes)
    if settings.s3_bucket:
        return S3BlobStore(settings.s3_bucket, settings.s3_endpoint_url, read_budget=budget)
    if settings.s3_endpoint_url:
        raise ConfigError("MAESTRO_S3_ENDPOINT_URL is set but MAESTRO_S3_BUCKET is not")
    return LocalBlobStore(settings.data_dir / "blobs", read_budget=budget)
