"""Small faithful stubs of two real admin APIs, built from their public documentation.

* Mastodon 4.x admin API — https://docs.joinmastodon.org/methods/admin/accounts/ and
  https://docs.joinmastodon.org/methods/admin/domain_blocks/ (Link-header pagination with
  ``max_id``; ``{"error": "..."}`` bodies; 403 for unsuspending an account that is not
  suspended; 422 with ``existing_domain_block`` for a domain blocked already).
* Keycloak Admin REST API — https://www.keycloak.org/docs-api/latest/rest-api/ (users under
  ``/admin/realms/{realm}``, ``first``/``max`` paging over a bare JSON array, 204 answers).

Each records the requests it received so tests can assert their exact shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

TOKEN = "stub-token-3b7c"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    content_type: str | None
    body: Any


@dataclass
class StubState:
    requests: list[Seen] = field(default_factory=list)


async def _record(state: StubState, request: Request) -> Any:
    raw = await request.body()
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode()
    state.requests.append(
        Seen(
            request.method,
            request.url.path,
            dict(request.query_params),
            request.headers.get("authorization"),
            request.headers.get("content-type"),
            body,
        )
    )
    return body


# -- Mastodon ------------------------------------------------------------------------------


@dataclass
class MastodonAccount:
    id: str
    username: str
    domain: str | None = None
    disabled: bool = False
    silenced: bool = False
    suspended: bool = False
    strikes: int = 0

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "domain": self.domain,
            "created_at": "2026-11-28T21:00:00.000Z",
            "email": f"{self.username}@mastodon.test",
            "role": {"id": -99, "name": "", "permissions": 65536},
            "confirmed": True,
            "suspended": self.suspended,
            "silenced": self.silenced,
            "disabled": self.disabled,
            "approved": True,
            "account": {"id": self.id, "username": self.username, "acct": self.username},
        }

    @property
    def status(self) -> str:
        if self.suspended:
            return "suspended"
        if self.disabled:
            return "disabled"
        if self.silenced:
            return "silenced"
        return "active"


@dataclass
class MastodonState(StubState):
    accounts: dict[str, MastodonAccount] = field(default_factory=dict)
    blocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_block: int = 1


def _mastodon_page(request: Request, records: list[Any], default: int, maximum: int) -> Response:
    """Newest first, ``max_id`` paging, a Link header as Mastodon sends it."""
    limit = min(int(request.query_params.get("limit", default)), maximum)
    max_id = request.query_params.get("max_id")
    ordered = sorted(records, key=lambda r: int(r["id"]), reverse=True)
    if max_id is not None:
        ordered = [r for r in ordered if int(r["id"]) < int(max_id)]
    page = ordered[:limit]
    links = []
    if len(page) == limit:
        kept = {k: v for k, v in request.query_params.items() if k != "max_id"}
        query = "&".join(f"{k}={v}" for k, v in {**kept, "max_id": page[-1]["id"]}.items())
        links.append(f'<{request.url.replace(query=query)}>; rel="next"')
    if page:
        newest = page[0]["id"]
        links.append(f'<{request.url.replace(query=f"min_id={newest}")}>; rel="prev"')
    headers = {"Link": ", ".join(links)} if links else {}
    return JSONResponse(page, headers=headers)


def mastodon_app(state: MastodonState) -> Starlette:
    """The documented subset of Mastodon's admin API, over ``state``."""

    def denied() -> JSONResponse:
        return JSONResponse({"error": "This action is not allowed"}, status_code=403)

    def missing() -> JSONResponse:
        return JSONResponse({"error": "Record not found"}, status_code=404)

    async def guard(request: Request) -> tuple[Any, Response | None]:
        body = await _record(state, request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return body, JSONResponse({"error": "The access token is invalid"}, status_code=401)
        return body, None

    async def list_accounts(request: Request) -> Response:
        _body, refused = await guard(request)
        if refused:
            return refused
        query = request.query_params
        records = [
            a.render()
            for a in state.accounts.values()
            if query.get("status") in (None, a.status)
            and query.get("by_domain") in (None, a.domain)
            and query.get("origin") in (None, "remote" if a.domain else "local")
        ]
        return _mastodon_page(request, records, 100, 200)

    async def get_account(request: Request) -> Response:
        _body, refused = await guard(request)
        if refused:
            return refused
        account = state.accounts.get(request.path_params["id"])
        return JSONResponse(account.render()) if account else missing()

    async def action(request: Request) -> Response:
        body, refused = await guard(request)
        if refused:
            return refused
        account = state.accounts.get(request.path_params["id"])
        if account is None:
            return missing()
        kind = body.get("type") if isinstance(body, dict) else None
        if kind not in ("none", "sensitive", "disable", "silence", "suspend"):
            return JSONResponse({"error": "Record invalid"}, status_code=422)
        account.disabled |= kind == "disable"
        account.silenced |= kind == "silence"
        account.suspended |= kind == "suspend"
        account.strikes += kind != "none"  # every action records another strike
        return JSONResponse({})

    async def change(request: Request) -> Response:
        _body, refused = await guard(request)
        if refused:
            return refused
        account = state.accounts.get(request.path_params["id"])
        if account is None:
            return missing()
        verb = request.path_params["verb"]
        if verb == "unsuspend":
            if not account.suspended:
                return denied()
            account.suspended = False
        elif verb == "enable":
            account.disabled = False
        elif verb == "unsilence":
            account.silenced = False
        else:
            return missing()
        return JSONResponse(account.render())

    async def domain_blocks(request: Request) -> Response:
        body, refused = await guard(request)
        if refused:
            return refused
        if request.method == "GET":
            return _mastodon_page(request, list(state.blocks.values()), 100, 200)
        domain = body.get("domain") if isinstance(body, dict) else None
        if not domain:
            return JSONResponse(
                {"error": "Validation failed: Domain can't be blank"}, status_code=422
            )
        existing = next((b for b in state.blocks.values() if b["domain"] == domain), None)
        if existing:
            return JSONResponse(
                {
                    "error": f"Validation failed: Domain is already blocked ({domain})",
                    "existing_domain_block": existing,
                },
                status_code=422,
            )
        block = {
            "id": str(state.next_block),
            "domain": domain,
            "created_at": "2026-11-28T22:00:00.000Z",
            "severity": body.get("severity", "silence"),
            "reject_media": False,
            "reject_reports": False,
            "private_comment": body.get("private_comment"),
            "public_comment": None,
            "obfuscate": False,
        }
        state.blocks[block["id"]] = block
        state.next_block += 1
        return JSONResponse(block)

    async def domain_block(request: Request) -> Response:
        _body, refused = await guard(request)
        if refused:
            return refused
        if state.blocks.pop(request.path_params["id"], None) is None:
            return missing()
        return JSONResponse({})

    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/api/v2/admin/accounts", list_accounts),
            Route("/api/v1/admin/accounts/{id}", get_account),
            Route("/api/v1/admin/accounts/{id}/action", action, methods=["POST"]),
            Route("/api/v1/admin/accounts/{id}/{verb}", change, methods=["POST"]),
            Route("/api/v1/admin/domain_blocks", domain_blocks, methods=["GET", "POST"]),
            Route("/api/v1/admin/domain_blocks/{id}", domain_block, methods=["DELETE"]),
        ]
    )


# -- Keycloak ------------------------------------------------------------------------------


@dataclass
class KeycloakUser:
    id: str
    username: str
    enabled: bool = True
    required_actions: list[str] = field(default_factory=list)
    sessions: int = 2
    emails: int = 0

    def render(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "email": f"{self.username}@example.test",
            "firstName": self.username.title(),
            "lastName": "Tester",
            "emailVerified": True,
            "enabled": self.enabled,
            "createdTimestamp": 1_764_367_200_000,
            "requiredActions": list(self.required_actions),
        }


@dataclass
class KeycloakState(StubState):
    realm: str = "ops"
    users: dict[str, KeycloakUser] = field(default_factory=dict)


def keycloak_app(state: KeycloakState) -> Starlette:
    """The documented subset of Keycloak's Admin REST API, over ``state``."""

    async def guard(request: Request) -> tuple[Any, Response | None]:
        body = await _record(state, request)
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return body, JSONResponse({"error": "HTTP 401 Unauthorized"}, status_code=401)
        if request.path_params.get("realm") != state.realm:
            return body, JSONResponse({"error": "Realm not found."}, status_code=404)
        return body, None

    def user_of(request: Request) -> KeycloakUser | None:
        return state.users.get(request.path_params["id"])

    def no_user() -> JSONResponse:
        return JSONResponse({"error": "User not found"}, status_code=404)

    async def realm(request: Request) -> Response:
        _body, refused = await guard(request)
        return refused or JSONResponse({"realm": state.realm, "enabled": True})

    async def users(request: Request) -> Response:
        _body, refused = await guard(request)
        if refused:
            return refused
        query = request.query_params
        first = int(query.get("first", 0))
        size = int(query.get("max", 100))
        search = query.get("search", "")
        enabled = query.get("enabled")
        matching = [
            u.render()
            for u in state.users.values()
            if search in u.username and enabled in (None, str(u.enabled).lower())
        ]
        return JSONResponse(matching[first : first + size])

    async def user(request: Request) -> Response:
        body, refused = await guard(request)
        if refused:
            return refused
        found = user_of(request)
        if found is None:
            return no_user()
        if request.method == "GET":
            return JSONResponse(found.render())
        if "json" not in (request.headers.get("content-type") or ""):
            return JSONResponse({"error": "HTTP 415 Unsupported Media Type"}, status_code=415)
        if "enabled" in body:
            found.enabled = bool(body["enabled"])
        if "requiredActions" in body:  # replaced as a whole, as Keycloak does
            found.required_actions = list(body["requiredActions"])
        return Response(status_code=204)

    async def logout(request: Request) -> Response:
        _body, refused = await guard(request)
        if refused:
            return refused
        found = user_of(request)
        if found is None:
            return no_user()
        found.sessions = 0
        return Response(status_code=204)

    async def execute_actions_email(request: Request) -> Response:
        body, refused = await guard(request)
        if refused:
            return refused
        found = user_of(request)
        if found is None:
            return no_user()
        if not isinstance(body, list):
            return JSONResponse({"error": "invalid actions"}, status_code=400)
        found.emails += 1
        return Response(status_code=204)

    base = "/admin/realms/{realm}"
    return Starlette(
        routes=[
            Route(base, realm),
            Route(f"{base}/users", users),
            Route(f"{base}/users/{{id}}", user, methods=["GET", "PUT"]),
            Route(f"{base}/users/{{id}}/logout", logout, methods=["POST"]),
            Route(
                f"{base}/users/{{id}}/execute-actions-email", execute_actions_email, methods=["PUT"]
            ),
        ]
    )
