"""The content_blobs table against its migration, the settings, the blob stores' edges,
and the `maestro worker indexer` command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from maestro_grpc.blobs import LocalBlobStore, S3BlobStore, create_blob_store
from maestro_grpc.catalog import metadata
from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.errors import Unavailable
from maestro_grpc.registry.domain.indexer import JOB_KEYS
from maestro_grpc.registry.store.tables import content_blobs
from maestro_grpc.store.db import Database
from maestro_grpc.worker_cli import _run_indexer
from tests.helpers import eventually_sync, free_port


async def test_content_blobs_matches_its_migration(store_url: str) -> None:
    only = MetaData(naming_convention=metadata.naming_convention)
    content_blobs.to_metadata(only)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, parent: (
                    kind != "table" or name == "content_blobs"
                ),
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return list(compare_metadata(context, only))

    db = Database(store_url)
    try:
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(compare)
    finally:
        await db.dispose()
    assert differences == []


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "MAESTRO_BLOB_GC_GRACE_SECONDS": "3600",
            "MAESTRO_INDEXER_INTERVAL_SECONDS": "60",
            "MAESTRO_INDEXER_VERIFY_SAMPLE": "5",
            "MAESTRO_INDEXER_METRICS_PORT": "9999",
        }
    )
    assert settings.blob_gc_grace_seconds == 3600
    assert settings.indexer_interval_seconds == 60
    assert settings.indexer_verify_sample == 5
    assert settings.indexer_metrics_port == 9999
    defaults = Settings.from_env({})
    assert (defaults.blob_gc_grace_seconds, defaults.indexer_metrics_port) == (86_400, 9466)
    assert Settings.from_env({"MAESTRO_INDEXER_METRICS_PORT": "off"}).indexer_metrics_port is None
    for name, value in (
        ("MAESTRO_BLOB_GC_GRACE_SECONDS", "-1"),
        ("MAESTRO_INDEXER_INTERVAL_SECONDS", "0.5"),
        ("MAESTRO_INDEXER_VERIFY_SAMPLE", "many"),
    ):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value})


def test_the_blob_store_follows_the_settings(tmp_path: Path) -> None:
    local = create_blob_store(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalBlobStore)
    assert local.root == (tmp_path / "blobs").resolve()
    # Opaque: no path of the server's disk in what clients see.
    assert local.uri("ab" + "c" * 62) == f"maestro-blob:sha256/ab/{'c' * 62}"
    assert local.path("ab" + "c" * 62) == (tmp_path / "blobs/sha256/ab" / ("c" * 62)).resolve()
    s3 = create_blob_store(Settings(s3_bucket="models", s3_endpoint_url="http://127.0.0.1:9000"))
    assert isinstance(s3, S3BlobStore)
    assert s3.uri("ab" + "c" * 62) == f"s3://models/sha256/ab/{'c' * 62}"
    with pytest.raises(ConfigError, match="MAESTRO_S3_BUCKET"):
        create_blob_store(Settings(s3_endpoint_url="http://127.0.0.1:9000"))


async def test_an_unreachable_s3_is_unavailable() -> None:
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=1),
    )
    store = S3BlobStore("nowhere", client=client)
    with pytest.raises(Unavailable) as caught:
        await store.size("a" * 64)
    assert caught.value.reason == "BLOB_STORE_UNAVAILABLE"
    await store.close()


async def test_local_sweep_keeps_young_leftovers(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    assert await store.sweep(datetime.now(UTC)) == 0  # no tmp dir yet
    writer = await store.writer()
    await writer.write(b"partial")
    assert await store.sweep(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert await store.sweep(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert await store.size("0" * 64) is None


@pytest.mark.parametrize("blob_kind", ["file"])
def test_worker_indexer_once(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(once=True)
    assert _run_indexer(args, settings) == 0
    first = capsys.readouterr().out
    assert f"ran {len(JOB_KEYS)} job(s)" in first
    assert _run_indexer(args, settings) == 0
    assert "ran 0 job(s): -" in capsys.readouterr().out


@pytest.mark.parametrize("blob_kind", ["file"])
def test_worker_indexer_serves_metrics_and_stops_on_sigterm(settings: Settings) -> None:
    port = free_port()
    env = {
        **os.environ,
        "MAESTRO_DATABASE_URL": settings.database_url,
        "MAESTRO_DATA_DIR": str(settings.data_dir),
        "MAESTRO_INDEXER_METRICS_PORT": str(port),
        "MAESTRO_METRICS_HOST": "127.0.0.1",
        "MAESTRO_INDEXER_INTERVAL_SECONDS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "maestro_grpc", "worker", "indexer"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def jobs_ran() -> str:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    text = str(r.read().decode())
            except OSError:
                return ""
            done = 'maestro_indexer_jobs_total{outcome="ok",task="gc"} 1.0' in text
            return text if done else ""

        text = eventually_sync(
            jobs_ran, "the indexer's metrics show jobs run", within=30, every=0.2
        )
        # The indexer's own label is `task`: `job` is Prometheus' (and renamed on scrape).
        assert 'task="gc"' in text
        assert 'job="' not in text
        assert "process_open_fds " in text
        assert "maestro_worker_passes_total{" in text
        assert "maestro_indexer_bad_blobs 0.0" in text
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
