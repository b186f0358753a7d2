"""Artifact content stores: content-addressed blobs in local files or in S3.

Both implement `BlobStore` (`base.py`), one small async interface;
`local.py` keeps blobs as files, `s3.py` as objects of a bucket, and
`factory.create_blob_store` picks the one the settings name. What the bytes
hash to, and which blobs exist, is the caller's business (the registry's
content code).

The names below are the package's public face: import them from here.
"""

from maestro_grpc.blobs.base import (
    BLOB_PREFIX,
    BlobNotFound,
    BlobStore,
    BlobWriter,
    PresignedUrl,
    ReadBudget,
    UrlsUnsupported,
    blob_key,
)
from maestro_grpc.blobs.factory import create_blob_store
from maestro_grpc.blobs.local import LocalBlobStore
from maestro_grpc.blobs.s3 import PART_SIZE, PARTS_IN_FLIGHT, S3BlobStore

__all__ = [
    "BLOB_PREFIX",
    "PARTS_IN_FLIGHT",
    "PART_SIZE",
    "BlobNotFound",
    "BlobStore",
    "BlobWriter",
    "LocalBlobStore",
    "PresignedUrl",
    "ReadBudget",
    "S3BlobStore",
    "UrlsUnsupported",
    "blob_key",
    "create_blob_store",
]
