"""Tokens as their holders meet them: bootstrap once, create, use, list, revoke, expire."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import grpc
import grpc.aio
import pytest

from maestro.access.v1 import access_service_pb2 as ac
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro_grpc.access.store.tables import access_tokens
from maestro_grpc.app import bootstrap_admin
from maestro_grpc.config import Settings
from maestro_grpc.errors import FailedPrecondition
from maestro_grpc.server import start_server
from maestro_grpc.store.db import Database
from tests.access.conftest import Secured, bearer
from tests.conftest import with_settings
from tests.helpers import error_info, eventually, expect_error, expect_invalid

SECRET = re.compile(r"^mae_[A-Za-z0-9_-]{43}$")


async def test_bootstrap_makes_one_admin_token_then_refuses(settings: Settings) -> None:
    first = await bootstrap_admin(settings, "root")
    assert SECRET.match(first.secret)
    assert first.token.role.value == "admin"
    with pytest.raises(FailedPrecondition, match="admin token exists"):
        await bootstrap_admin(settings, "again")
    # Only a hash is kept: the secret appears nowhere in the row.
    db = Database(settings.store_url)
    try:
        async with db.read() as conn:
            rows = [dict(r._mapping) for r in await conn.execute(access_tokens.select())]
    finally:
        await db.dispose()
    assert len(rows) == 1
    assert first.secret not in repr(rows)
    assert rows[0]["secret_prefix"] == first.secret[:8]


async def test_a_created_token_works_once_shown_and_lists_without_its_secret(
    secured: Secured,
) -> None:
    secret, token = await secured.token("reader", name="alice")
    assert SECRET.match(secret)
    assert token.role == ac.ROLE_READER
    assert not token.project_ids
    me = await secured.access.WhoAmI(ac.WhoAmIRequest(), metadata=bearer(secret))
    assert (me.token.id, me.token.name, me.auth_required) == (token.id, "alice", True)
    listed = await secured.access.ListTokens(ac.ListTokensRequest(), metadata=bearer(secured.admin))
    assert {t.name for t in listed.tokens} == {"root", "alice"}
    assert all(secret not in str(t) and t.secret_prefix for t in listed.tokens)


async def test_a_retried_create_returns_the_token_but_not_a_second_secret(
    secured: Secured,
) -> None:
    request = ac.CreateTokenRequest(name="ci", role=ac.ROLE_AGENT, request_id="mk-ci-1")
    first = await secured.access.CreateToken(request, metadata=bearer(secured.admin))
    again = await secured.access.CreateToken(request, metadata=bearer(secured.admin))
    assert again.token.id == first.token.id
    assert first.secret
    assert not again.secret


async def test_calls_need_a_token_once_one_exists_even_on_loopback(secured: Secured) -> None:
    call = secured.registry.ListProjects(rs.ListProjectsRequest())
    error = await expect_error(call, grpc.StatusCode.UNAUTHENTICATED)
    assert error_info(error).reason == "MISSING_TOKEN"
    bad = secured.registry.ListProjects(
        rs.ListProjectsRequest(), metadata=bearer("mae_" + "x" * 43)
    )
    assert error_info(await expect_error(bad, grpc.StatusCode.UNAUTHENTICATED)).reason == (
        "INVALID_TOKEN"
    )


async def test_revoked_and_expired_tokens_are_unauthenticated(secured: Secured) -> None:
    secret, token = await secured.token("reader")
    await secured.registry.ListProjects(rs.ListProjectsRequest(), metadata=bearer(secret))
    revoked = await secured.access.RevokeToken(
        ac.RevokeTokenRequest(token_id=token.id), metadata=bearer(secured.admin)
    )
    assert revoked.token.HasField("revoke_time")
    error = await expect_error(
        secured.registry.ListProjects(rs.ListProjectsRequest(), metadata=bearer(secret)),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    assert error_info(error).reason == "TOKEN_REVOKED"

    # Expiry is about real time: a token that lives two seconds.
    soon = datetime.now(UTC) + timedelta(seconds=2)
    short, _ = await secured.token("reader", name="short", expire=soon)
    await secured.registry.ListProjects(rs.ListProjectsRequest(), metadata=bearer(short))

    async def expired() -> bool:
        try:
            await secured.registry.ListProjects(rs.ListProjectsRequest(), metadata=bearer(short))
        except grpc.aio.AioRpcError as failed:
            return bool(error_info(failed).reason == "TOKEN_EXPIRED")
        return False

    await eventually(expired, "the token expired", within=10, every=0.1)
    active = await secured.access.ListTokens(ac.ListTokensRequest(), metadata=bearer(secured.admin))
    assert {t.name for t in active.tokens} == {"root"}
    everyone = await secured.access.ListTokens(
        ac.ListTokensRequest(include_inactive=True), metadata=bearer(secured.admin)
    )
    assert {t.name for t in everyone.tokens} == {"root", "reader-0", "short"}


async def test_bad_token_requests_name_their_fields(secured: Secured) -> None:
    admin = bearer(secured.admin)
    found = await expect_invalid(
        secured.access.CreateToken(
            ac.CreateTokenRequest(name="", project_ids=["nope", ""]), metadata=admin
        ),
        "name",
    )
    assert {"role", "project_ids[0]", "project_ids[1]"} <= set(found)
    scoped_admin = ac.CreateTokenRequest(
        name="a", role=ac.ROLE_ADMIN, project_ids=["00000000-0000-0000-0000-000000000001"]
    )
    await expect_invalid(secured.access.CreateToken(scoped_admin, metadata=admin), "project_ids")
    past = ac.CreateTokenRequest(name="old", role=ac.ROLE_READER)
    past.expire_time.FromDatetime(datetime.now(UTC) - timedelta(days=1))
    await expect_invalid(secured.access.CreateToken(past, metadata=admin), "expire_time")
    unknown = ac.CreateTokenRequest(
        name="x", role=ac.ROLE_READER, project_ids=["00000000-0000-0000-0000-000000000001"]
    )
    await expect_error(
        secured.access.CreateToken(unknown, metadata=admin), grpc.StatusCode.NOT_FOUND
    )
    await expect_error(
        secured.access.RevokeToken(
            ac.RevokeTokenRequest(token_id="00000000-0000-0000-0000-000000000002"), metadata=admin
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_invalid(
        secured.access.RevokeToken(ac.RevokeTokenRequest(token_id="x"), metadata=admin), "token_id"
    )


async def test_static_tokens_are_admins_and_leave_the_settings(settings: Settings) -> None:
    static = "static-admin-token-0123456789"
    running = await start_server(with_settings(settings, auth_tokens={static: "ops"}))
    try:
        assert dict(running.settings.auth_tokens) == {}
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            from maestro.access.v1 import access_service_pb2_grpc

            stub = access_service_pb2_grpc.AccessServiceStub(channel)
            me = await stub.WhoAmI(ac.WhoAmIRequest(), metadata=bearer(static))
            assert (me.token.name, me.token.static, me.token.role) == ("ops", True, ac.ROLE_ADMIN)
            made = await stub.CreateToken(
                ac.CreateTokenRequest(name="from-static", role=ac.ROLE_READER),
                metadata=bearer(static),
            )
            assert made.token.creator == "ops (static)"
            listed = await stub.ListTokens(ac.ListTokensRequest(), metadata=bearer(static))
            assert [t.name for t in listed.tokens if t.static] == ["ops"]
    finally:
        await running.stop(grace=0)


async def test_no_secret_ever_reaches_a_log_line(
    secured: Secured, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret, _ = await secured.token("writer", name="logged")
    await secured.registry.ListProjects(rs.ListProjectsRequest(), metadata=bearer(secret))
    await expect_error(
        secured.registry.ListProjects(rs.ListProjectsRequest(), metadata=bearer(secret + "x")),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "logged" in text  # the principal's name is logged...
    for leaked in (secret, secured.admin, secret + "x"):
        assert leaked not in text  # ...its secret never


async def test_a_bootstrap_beside_a_running_open_server_closes_it(settings: Settings) -> None:
    running = await start_server(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            from maestro.registry.v1 import registry_service_pb2_grpc

            stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
            await stub.ListProjects(rs.ListProjectsRequest())  # open: no token exists
            await bootstrap_admin(settings, "late")

            async def closed() -> bool:
                try:
                    await stub.ListProjects(rs.ListProjectsRequest())
                except grpc.aio.AioRpcError as error:
                    return error.code() == grpc.StatusCode.UNAUTHENTICATED
                return False

            await eventually(closed, "the server requires tokens", within=5)
    finally:
        await running.stop(grace=0)


async def test_beyond_loopback_a_stored_token_is_enough_and_none_is_refused(
    settings: Settings,
) -> None:
    from maestro_grpc.config import ConfigError

    wide = with_settings(settings, host="0.0.0.0")
    with pytest.raises(ConfigError, match="without authentication"):
        await start_server(wide)
    await bootstrap_admin(settings, "root")
    running = await start_server(wide)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            from maestro.registry.v1 import registry_service_pb2_grpc

            stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
            await expect_error(
                stub.ListProjects(rs.ListProjectsRequest()), grpc.StatusCode.UNAUTHENTICATED
            )
    finally:
        await running.stop(grace=0)
