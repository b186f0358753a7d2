"""Server settings, read from MAESTRO_* environment variables (README lists them)."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value the server cannot run with."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if not value >= minimum:
        raise ConfigError(f"{name}={value} must be at least {minimum}")
    return value


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def _optional_bool(env: Mapping[str, str], name: str) -> bool | None:
    """A boolean, or None when unset (the default depends on other settings)."""
    return _bool(env, name, False) if env.get(name, "").strip() else None


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, "").strip() or default


def _port_or_off(env: Mapping[str, str], name: str, default: int) -> int | None:
    """A port number, or None for "off"/"none"/"-1" (the endpoint is not served)."""
    if env.get(name, "").strip().lower() in {"off", "none", "-1"}:
        return None
    return _int(env, name, default)


def parse_tokens(raw: str) -> dict[str, str]:
    """Parse `name=token,name2=token2` into {token: name}.

    A bare `token` gets the name `client-<n>`. Tokens must be at least 16
    characters: a short bearer token is a guessable one.
    """
    tokens: dict[str, str] = {}
    for n, item in enumerate(p.strip() for p in raw.replace("\n", ",").split(",")):
        if not item or item.startswith("#"):
            continue
        name, sep, token = item.partition("=")
        if not sep:
            name, token = f"client-{n}", item
        name, token = name.strip(), token.strip()
        if len(token) < 16:
            raise ConfigError(f"the token of {name!r} is shorter than 16 characters")
        tokens[token] = name
    return tokens


def _auth_tokens(env: Mapping[str, str]) -> dict[str, str]:
    """MAESTRO_AUTH_TOKENS and the file MAESTRO_AUTH_TOKENS_FILE names, together."""
    tokens = parse_tokens(env.get("MAESTRO_AUTH_TOKENS", ""))
    token_file = _text(env, "MAESTRO_AUTH_TOKENS_FILE")
    if token_file:
        try:
            tokens.update(parse_tokens(Path(token_file).read_text()))
        except OSError as exc:
            raise ConfigError(f"MAESTRO_AUTH_TOKENS_FILE: {exc}") from None
    return tokens


def is_loopback(host: str) -> bool:
    """Whether binding `host` only exposes the server to this machine."""
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class LimitSettings:
    """What one caller, and all callers together, may hold at once (README "Limits").

    Per principal (a token; the anonymous loopback caller is one principal):
    concurrent StreamMetrics, WatchMetrics and content transfers (uploads
    and downloads together), and a request rate (a token bucket: `rate` per
    second, up to `burst` at once). For the whole server: concurrent
    downloads, and the bytes their read-ahead may hold. 0 lifts a bound.
    """

    streams: int = 1000
    watches: int = 100
    transfers: int = 32
    # The rate is off by default: what a caller may ask depends on the
    # deployment (one replica serves a few thousand calls a second).
    rate: float = 0.0
    burst: int = 0  # 0: twice the rate, at least 1
    downloads: int = 64
    download_buffer_bytes: int = 64 * 1024 * 1024

    @property
    def bucket_size(self) -> int:
        """The most requests a caller may make at once (the bucket's capacity)."""
        return self.burst or max(1, math.ceil(2 * self.rate))

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LimitSettings:
        return cls(
            streams=_int(env, "MAESTRO_LIMIT_STREAMS", 1000),
            watches=_int(env, "MAESTRO_LIMIT_WATCHES", 100),
            transfers=_int(env, "MAESTRO_LIMIT_TRANSFERS", 32),
            rate=_float(env, "MAESTRO_LIMIT_RATE", 0.0),
            burst=_int(env, "MAESTRO_LIMIT_BURST", 0),
            downloads=_int(env, "MAESTRO_LIMIT_DOWNLOADS", 64),
            download_buffer_bytes=_int(
                env, "MAESTRO_LIMIT_DOWNLOAD_BUFFER_BYTES", 64 * 1024 * 1024
            ),
        )


@dataclass(frozen=True)
class Settings:
    """Everything the server and workers need; see the README's table."""

    host: str = "localhost"
    port: int = 50051
    data_dir: Path = Path(".maestro")
    database_url: str = ""
    migrate_on_start: bool | None = None
    metrics_port: int | None = 9464
    metrics_host: str = "localhost"
    auth_tokens: Mapping[str, str] = field(default_factory=dict)
    grace_seconds: float = 10.0
    health_interval_seconds: float = 5.0
    access_log: bool = True
    log_level: str = "INFO"
    impact_half_life_days: float = 180.0
    # A failed webhook delivery waits this long, doubled after each failure (at most an hour).
    webhook_retry_seconds: float = 1.0
    # A prediction that moves at least this much (0..1) since the project's last is in the feed.
    feed_prediction_move: float = 0.1
    db_pool_size: int = 10
    # GetProject answers each replica keeps (PostgreSQL only; 0 turns the
    # cache off). See maestro_grpc/registry/project_cache.py.
    project_cache_size: int = 10_000
    # GetArtifact's cache, by the same rules (0: off; off on SQLite).
    artifact_cache_size: int = 10_000
    # SearchArtifacts and CountArtifactFacets count matches no further than
    # this: beyond it total_size is this limit, marked a lower bound (0: exact).
    search_count_limit: int = 10_000
    redis_url: str = ""
    s3_endpoint_url: str = ""
    s3_bucket: str = ""
    stream_lifetime_seconds: float = 1800.0
    max_connection_age_seconds: float = 3600.0
    # TLS: the server's certificate chain and key (PEM); plaintext without them.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # Mutual TLS: require client certificates signed by this CA (PEM).
    tls_client_ca_file: Path | None = None
    # Audit events older than this are deleted by the indexer; 0 keeps them forever.
    audit_retention_days: float = 0.0
    # Artifact content (issue #6). A blob no live artifact refers to is
    # deleted by the indexer once it has been unreferenced, and no upload has
    # touched it, for this long.
    blob_gc_grace_seconds: float = 86_400.0
    # The indexer's pass interval (each job runs at most once per interval
    # across all replicas), how many blobs each pass re-hashes, and where it
    # serves its Prometheus metrics (None: nowhere).
    indexer_interval_seconds: float = 300.0
    indexer_verify_sample: int = 20
    indexer_metrics_port: int | None = 9466
    # Where `maestro worker metrics` serves its Prometheus metrics (None: nowhere).
    metrics_worker_port: int | None = 9465
    # The meta-model (issue #5). Where training runs are logged: an MLflow
    # tracking URI (MLFLOW_TRACKING_URI); empty means a SQLite store
    # data_dir/mlflow.db with artifacts under data_dir/mlflow-artifacts.
    mlflow_tracking_uri: str = ""
    # Worker processes for training (MAESTRO_TRAINING_PROCESSES); 0 trains in
    # a thread of the server process instead.
    training_processes: int = 1
    # Processes fitting one training's outer folds at once
    # (MAESTRO_TRAINING_JOBS, 2 when served; 1 fits them in the training worker).
    training_jobs: int = 1
    # Build the Prediction service and start its training worker (imports,
    # fold workers, the MLflow store) at start rather than on the first call
    # (MAESTRO_PREDICTION_WARM, off unless set: the warm-up costs a replica
    # about 125 MB resident and competes for CPU in its first seconds, which a
    # replica that only ingests or reads should not pay; the deployment
    # manifests turn it on for the server, which serves predictions).
    prediction_warm: bool = False
    # Metrics (issue #3). Ingest: rows (points plus events) per batch, batches
    # a stream may have in flight, bytes of received but unstored batches
    # per process (readers stop reading beyond it: HTTP/2 flow control), and
    # concurrent batch transactions per process.
    metrics_max_batch_rows: int = 10_000
    metrics_max_inflight_batches: int = 8
    metrics_ingest_buffer_bytes: int = 64 * 1024 * 1024
    metrics_write_concurrency: int = 8
    # Rollups: how long a rollup job waits after the first write that needs
    # it (writes meanwhile coalesce), how often the worker polls, whether the
    # server runs the worker in process (None: only on the embedded SQLite
    # store), raw points kept for this many days (0: forever), and the longest
    # window a summary computes from raw points (longer ones use rollups).
    metrics_rollup_delay_seconds: float = 5.0
    metrics_worker_interval_seconds: float = 2.0
    metrics_inprocess_worker: bool | None = None
    metrics_raw_retention_days: float = 0.0
    metrics_summary_raw_max_days: float = 31.0
    # WatchMetrics: messages a watcher may fall behind before it is dropped;
    # how often a watcher checks the store for writes the event bus did not
    # bring (the longest a write can be late when the bus fails); how long
    # the store keeps each write's feed entry (for those reads, and for
    # watchers that resume with after_sequence).
    metrics_watch_queue: int = 256
    metrics_watch_poll_seconds: float = 1.0
    metrics_watch_retention_seconds: float = 300.0
    # Prefix of event-bus channel names and of the rate limits' keys (Redis),
    # so deployments (or tests) sharing one Redis stay apart, and the
    # longest any call waits on Redis.
    events_prefix: str = "maestro:"
    events_timeout_seconds: float = 1.0
    limits: LimitSettings = field(default_factory=LimitSettings)

    # long: one line per variable, all read in one place (the README's table, in code)
    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment names; a table, one line per variable."""
        env = os.environ if env is None else env
        # Read first, as ever: with several bad settings, these are reported.
        tokens = _auth_tokens(env)
        metrics_port = _port_or_off(env, "MAESTRO_METRICS_PORT", 9464)
        return cls(
            host=_text(env, "MAESTRO_HOST", "localhost"),
            port=_int(env, "MAESTRO_PORT", 50051),
            data_dir=Path(_text(env, "MAESTRO_DATA_DIR", ".maestro")),
            database_url=_text(env, "MAESTRO_DATABASE_URL"),
            migrate_on_start=_optional_bool(env, "MAESTRO_MIGRATE_ON_START"),
            metrics_port=metrics_port,
            metrics_host=_text(env, "MAESTRO_METRICS_HOST", "localhost"),
            auth_tokens=tokens,
            grace_seconds=_float(env, "MAESTRO_GRACE_SECONDS", 10.0),
            health_interval_seconds=_float(env, "MAESTRO_HEALTH_INTERVAL_SECONDS", 5.0, 0.05),
            access_log=_bool(env, "MAESTRO_ACCESS_LOG", True),
            log_level=_text(env, "MAESTRO_LOG_LEVEL", "INFO").upper(),
            impact_half_life_days=_float(env, "MAESTRO_IMPACT_HALF_LIFE_DAYS", 180.0, 0.001),
            webhook_retry_seconds=_float(env, "MAESTRO_WEBHOOK_RETRY_SECONDS", 1.0, 0.01),
            feed_prediction_move=_float(env, "MAESTRO_FEED_PREDICTION_MOVE", 0.1),
            db_pool_size=_int(env, "MAESTRO_DB_POOL_SIZE", 10, 1),
            project_cache_size=_int(env, "MAESTRO_PROJECT_CACHE_SIZE", 10_000),
            artifact_cache_size=_int(env, "MAESTRO_ARTIFACT_CACHE_SIZE", 10_000),
            search_count_limit=_int(env, "MAESTRO_SEARCH_COUNT_LIMIT", 10_000),
            redis_url=_text(env, "MAESTRO_REDIS_URL"),
            s3_endpoint_url=_text(env, "MAESTRO_S3_ENDPOINT_URL"),
            s3_bucket=_text(env, "MAESTRO_S3_BUCKET"),
            stream_lifetime_seconds=_float(env, "MAESTRO_STREAM_LIFETIME_SECONDS", 1800.0, 1.0),
            max_connection_age_seconds=_float(
                env, "MAESTRO_MAX_CONNECTION_AGE_SECONDS", 3600.0, 1.0
            ),
            tls_cert_file=_path(env, "MAESTRO_TLS_CERT_FILE"),
            tls_key_file=_path(env, "MAESTRO_TLS_KEY_FILE"),
            tls_client_ca_file=_path(env, "MAESTRO_TLS_CLIENT_CA_FILE"),
            audit_retention_days=_float(env, "MAESTRO_AUDIT_RETENTION_DAYS", 0.0),
            blob_gc_grace_seconds=_float(env, "MAESTRO_BLOB_GC_GRACE_SECONDS", 86_400.0),
            indexer_interval_seconds=_float(env, "MAESTRO_INDEXER_INTERVAL_SECONDS", 300.0, 1.0),
            indexer_verify_sample=_int(env, "MAESTRO_INDEXER_VERIFY_SAMPLE", 20),
            indexer_metrics_port=_port_or_off(env, "MAESTRO_INDEXER_METRICS_PORT", 9466),
            metrics_worker_port=_port_or_off(env, "MAESTRO_METRICS_WORKER_PORT", 9465),
            mlflow_tracking_uri=_text(env, "MLFLOW_TRACKING_URI"),
            training_processes=_int(env, "MAESTRO_TRAINING_PROCESSES", 1),
            training_jobs=_int(env, "MAESTRO_TRAINING_JOBS", 2, 1),
            prediction_warm=_bool(env, "MAESTRO_PREDICTION_WARM", False),
            metrics_max_batch_rows=_int(env, "MAESTRO_METRICS_MAX_BATCH_ROWS", 10_000, 1),
            metrics_max_inflight_batches=_int(env, "MAESTRO_METRICS_MAX_INFLIGHT_BATCHES", 8, 1),
            metrics_ingest_buffer_bytes=_int(
                env, "MAESTRO_METRICS_INGEST_BUFFER_BYTES", 64 * 1024 * 1024, 1024 * 1024
            ),
            metrics_write_concurrency=_int(env, "MAESTRO_METRICS_WRITE_CONCURRENCY", 8, 1),
            metrics_rollup_delay_seconds=_float(env, "MAESTRO_METRICS_ROLLUP_DELAY_SECONDS", 5.0),
            metrics_worker_interval_seconds=_float(
                env, "MAESTRO_METRICS_WORKER_INTERVAL_SECONDS", 2.0, 0.05
            ),
            metrics_inprocess_worker=_optional_bool(env, "MAESTRO_METRICS_INPROCESS_WORKER"),
            metrics_raw_retention_days=_float(env, "MAESTRO_METRICS_RAW_RETENTION_DAYS", 0.0),
            metrics_summary_raw_max_days=_float(
                env, "MAESTRO_METRICS_SUMMARY_RAW_MAX_DAYS", 31.0, 0.0
            ),
            metrics_watch_queue=_int(env, "MAESTRO_METRICS_WATCH_QUEUE", 256, 1),
            metrics_watch_poll_seconds=_float(env, "MAESTRO_METRICS_WATCH_POLL_SECONDS", 1.0, 0.05),
            metrics_watch_retention_seconds=_float(
                env, "MAESTRO_METRICS_WATCH_RETENTION_SECONDS", 300.0, 10.0
            ),
            events_prefix=_text(env, "MAESTRO_EVENTS_PREFIX", "maestro:"),
            events_timeout_seconds=_float(env, "MAESTRO_EVENTS_TIMEOUT_SECONDS", 1.0, 0.05),
            limits=LimitSettings.from_env(env),
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @property
    def store_url(self) -> str:
        """The SQLAlchemy URL of the store: the setting, or SQLite in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'maestro.db').resolve()}"

    @property
    def is_embedded_store(self) -> bool:
        return self.store_url.startswith("sqlite")

    @property
    def should_migrate_on_start(self) -> bool:
        """Embedded SQLite migrates at start; PostgreSQL uses `maestro migrate`."""
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.is_embedded_store

    def tls_credentials(self) -> tuple[bytes, bytes] | None:
        """The (certificate chain, key) to serve TLS with, or None for plaintext."""
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ConfigError("set both MAESTRO_TLS_CERT_FILE and MAESTRO_TLS_KEY_FILE, or neither")
        if self.tls_cert_file is None or self.tls_key_file is None:
            return None
        try:
            return self.tls_cert_file.read_bytes(), self.tls_key_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"TLS: {exc}") from None

    def tls_client_ca(self) -> bytes | None:
        """The CA client certificates must be signed by (mutual TLS), or None."""
        if self.tls_client_ca_file is None:
            return None
        if self.tls_cert_file is None:
            raise ConfigError(
                "MAESTRO_TLS_CLIENT_CA_FILE needs TLS: set MAESTRO_TLS_CERT_FILE and "
                "MAESTRO_TLS_KEY_FILE too"
            )
        try:
            return self.tls_client_ca_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"TLS client CA: {exc}") from None

    def check_secure(self, stored_tokens: bool = False) -> None:
        """Refuse to serve beyond loopback without tokens (secure by default)."""
        if not self.auth_tokens and not stored_tokens and not is_loopback(self.host):
            raise ConfigError(
                f"refusing to listen on {self.host!r} without authentication: set "
                "MAESTRO_AUTH_TOKENS (name=token,...) or MAESTRO_AUTH_TOKENS_FILE, make "
                "an admin token with `maestro token bootstrap`, or listen on localhost"
            )
