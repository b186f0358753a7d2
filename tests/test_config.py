"""Settings from the environment: defaults, parsing, and the secure-by-default rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_grpc.config import ConfigError, Settings, is_loopback, parse_tokens


def test_defaults_are_the_embedded_setup() -> None:
    s = Settings.from_env({})
    assert (s.host, s.port, s.data_dir) == ("localhost", 50051, Path(".maestro"))
    assert s.store_url.startswith("sqlite+aiosqlite:///")
    assert s.store_url.endswith(".maestro/maestro.db")
    assert s.should_migrate_on_start
    assert s.metrics_port == 9464
    assert s.auth_tokens == {}
    s.check_secure()


def test_environment_overrides() -> None:
    s = Settings.from_env(
        {
            "MAESTRO_HOST": "0.0.0.0",
            "MAESTRO_PORT": "6000",
            "MAESTRO_DATA_DIR": "/var/lib/maestro",
            "MAESTRO_DATABASE_URL": "postgresql+asyncpg://db/maestro",
            "MAESTRO_METRICS_PORT": "off",
            "MAESTRO_AUTH_TOKENS": "ci=aaaaaaaaaaaaaaaa, ops=bbbbbbbbbbbbbbbb",
            "MAESTRO_ACCESS_LOG": "false",
            "MAESTRO_IMPACT_HALF_LIFE_DAYS": "30",
            "MAESTRO_SEARCH_COUNT_LIMIT": "500",
        }
    )
    assert (s.host, s.port) == ("0.0.0.0", 6000)
    assert s.store_url == "postgresql+asyncpg://db/maestro"
    assert not s.should_migrate_on_start
    assert s.metrics_port is None
    assert s.auth_tokens == {"aaaaaaaaaaaaaaaa": "ci", "bbbbbbbbbbbbbbbb": "ops"}
    assert s.access_log is False
    assert s.impact_half_life_days == 30
    assert s.search_count_limit == 500
    assert Settings.from_env({}).search_count_limit == 10_000
    s.check_secure()


def test_limits_from_the_environment() -> None:
    default = Settings.from_env({}).limits
    assert (default.rate, default.streams, default.downloads) == (0.0, 1000, 64)
    s = Settings.from_env(
        {
            "MAESTRO_LIMIT_STREAMS": "2",
            "MAESTRO_LIMIT_WATCHES": "3",
            "MAESTRO_LIMIT_TRANSFERS": "0",
            "MAESTRO_LIMIT_RATE": "2.5",
            "MAESTRO_LIMIT_DOWNLOADS": "5",
            "MAESTRO_LIMIT_DOWNLOAD_BUFFER_BYTES": "1048576",
        }
    ).limits
    assert (s.streams, s.watches, s.transfers, s.rate) == (2, 3, 0, 2.5)
    assert (s.downloads, s.download_buffer_bytes) == (5, 1 << 20)
    assert s.bucket_size == 5  # twice the rate, when no burst is set
    assert Settings.from_env({"MAESTRO_LIMIT_RATE": "0.1"}).limits.bucket_size == 1
    burst = Settings.from_env({"MAESTRO_LIMIT_RATE": "2.5", "MAESTRO_LIMIT_BURST": "40"})
    assert burst.limits.bucket_size == 40


def test_tokens_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# agents\nagent=cccccccccccccccc\n\nplaintokenplaintoken\n")
    s = Settings.from_env({"MAESTRO_AUTH_TOKENS_FILE": str(path)})
    assert s.auth_tokens["cccccccccccccccc"] == "agent"
    assert s.auth_tokens["plaintokenplaintoken"].startswith("client-")
    with pytest.raises(ConfigError, match="MAESTRO_AUTH_TOKENS_FILE"):
        Settings.from_env({"MAESTRO_AUTH_TOKENS_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAESTRO_PORT": "http"}, "MAESTRO_PORT='http' is not an integer"),
        ({"MAESTRO_PORT": "-1"}, "must be at least 0"),
        ({"MAESTRO_GRACE_SECONDS": "soon"}, "is not a number"),
        ({"MAESTRO_ACCESS_LOG": "maybe"}, "is not a boolean"),
        ({"MAESTRO_AUTH_TOKENS": "ci=short"}, "shorter than 16"),
        ({"MAESTRO_IMPACT_HALF_LIFE_DAYS": "0"}, "must be at least"),
        ({"MAESTRO_LIMIT_RATE": "fast"}, "MAESTRO_LIMIT_RATE='fast' is not a number"),
        ({"MAESTRO_LIMIT_STREAMS": "-1"}, "MAESTRO_LIMIT_STREAMS=-1 must be at least 0"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("maestro.internal", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_public_address_needs_tokens() -> None:
    with pytest.raises(ConfigError, match=r"refusing to listen on '0\.0\.0\.0'"):
        Settings(host="0.0.0.0").check_secure()
    Settings(host="0.0.0.0", auth_tokens=parse_tokens("x=" + "t" * 16)).check_secure()


def test_tls_files(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_bytes(b"CERT")
    key.write_bytes(b"KEY")
    s = Settings.from_env({"MAESTRO_TLS_CERT_FILE": str(cert), "MAESTRO_TLS_KEY_FILE": str(key)})
    assert s.tls_credentials() == (b"CERT", b"KEY")
    assert Settings.from_env({}).tls_credentials() is None
    with pytest.raises(ConfigError, match="TLS"):
        Settings(tls_cert_file=cert, tls_key_file=tmp_path / "missing").tls_credentials()


def test_overrides_ignore_none() -> None:
    s = Settings().with_overrides(port=7000, host=None)
    assert (s.host, s.port) == ("localhost", 7000)
