"""AccessService: tokens, who am I, the audit log."""

from __future__ import annotations

from maestro.access.v1 import access_service_pb2 as pb
from maestro.access.v1 import access_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.access.domain.audit import AuditLog
from maestro_grpc.access.domain.tokens import Tokens
from maestro_grpc.access.wire import convert
from maestro_grpc.errors import Violations
from maestro_grpc.paging import KeyKind
from maestro_grpc.wire import pagetoken
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import request_fingerprint, uuid_field


class AccessServicer(access_service_pb2_grpc.AccessServiceServicer):
    def __init__(self, tokens: Tokens, audit_log: AuditLog, pages: PageTokens) -> None:
        self.tokens = tokens
        self.audit_log = audit_log
        self.pages = pages

    async def CreateToken(
        self, request: pb.CreateTokenRequest, context: Context
    ) -> pb.CreateTokenResponse:
        v = Violations()
        fields = convert.token_fields(v, request)
        v.raise_if_any()
        made = await self.tokens.create(
            fields,
            caller.current(),
            request_id=request.request_id,
            fingerprint=request_fingerprint(request),
        )
        return pb.CreateTokenResponse(token=convert.token_to_proto(made.token), secret=made.secret)

    async def ListTokens(
        self, request: pb.ListTokensRequest, context: Context
    ) -> pb.ListTokensResponse:
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("ListTokens", request, request.page_token, key=KeyKind.TIME)
        tokens, cursor = await self.tokens.list(
            page_size=size, after=after, include_inactive=request.include_inactive
        )
        listed = [convert.token_to_proto(t) for t in tokens]
        if after is None:
            # Static tokens live outside the store: shown on the first page.
            listed = [convert.token_to_proto(t) for t in self.tokens.static.all()] + listed
        return pb.ListTokensResponse(
            tokens=listed, next_page_token=self.pages.encode("ListTokens", request, cursor)
        )

    async def RevokeToken(
        self, request: pb.RevokeTokenRequest, context: Context
    ) -> pb.RevokeTokenResponse:
        v = Violations()
        token_id = uuid_field(v, request.token_id, "token_id")
        v.raise_if_any()
        token = await self.tokens.revoke(token_id)
        return pb.RevokeTokenResponse(token=convert.token_to_proto(token))

    async def WhoAmI(self, request: pb.WhoAmIRequest, context: Context) -> pb.WhoAmIResponse:
        principal = caller.current()
        response = pb.WhoAmIResponse(auth_required=self.tokens.required)
        if principal.token is not None:
            response.token.CopyFrom(convert.token_to_proto(principal.token))
        return response

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: Context
    ) -> pb.ListAuditEventsResponse:
        v = Violations()
        query = convert.audit_query(v, request)
        v.raise_if_any()
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("ListAuditEvents", request, request.page_token, key=KeyKind.TIME)
        events, cursor = await self.audit_log.list(query, page_size=size, after=after)
        return pb.ListAuditEventsResponse(
            audit_events=[convert.event_to_proto(e) for e in events],
            next_page_token=self.pages.encode("ListAuditEvents", request, cursor),
        )
