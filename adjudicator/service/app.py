"""The HTTP application: FastAPI, versioned JSON API under /api/v1, OpenAPI at /openapi.json.

durable_rules is not thread-safe: every engine call (decide, render) runs under context.ENGINE_LOCK,
so one process never runs two at once; throughput comes from processes (`serve --workers N`).
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import unicodedata

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ..contract.load import field_path
from ..decide import ENGINE_VERSION
from ..ledger import LedgerDamaged, LedgerError, LedgerUnavailable
from .api import register_claim_schema, router
from .context import ApiError, Context, error_body
from .desk import routes as desk
from .settings import Settings

log = logging.getLogger("adjudicator.service")
LOG_FORMAT = "%(asctime)s %(message)s"
# A request body must arrive within this many seconds of the first read (a client that sends its
# headers and then a byte now and then would hold a worker): 408 after it. ADJUDICATOR_BODY_TIMEOUT
# sets another (the tests' real server waits less).
BODY_SECONDS = 30.0
PATH_IN_LOG = 300  # characters of a request path in the log


def loggable(path: str) -> str:
    """A request path for one log line: control, format (bidi, zero-width) and separator characters
    escaped (an anonymous client must not send a terminal escape to whoever tails the log), cut short."""
    out = "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") else ch
                  for ch in path[:PATH_IN_LOG])
    return out + ("…" if len(path) > PATH_IN_LOG else "")


class BodyTimeout(Exception):
    """The request body did not arrive in time."""


class BodyDeadline:
    """ASGI middleware: the request body is read within `seconds` of the first read or the request gets
    a 408 (BodyTimeout); once the body is complete, reads pass through untouched."""

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        loop, deadline, done = asyncio.get_running_loop(), None, False

        async def timed_receive():
            nonlocal deadline, done
            if done:
                return await receive()
            deadline = deadline or loop.time() + self.seconds
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except asyncio.TimeoutError:
                raise BodyTimeout() from None
            done = message["type"] != "http.request" or not message.get("more_body", False)
            return message
        await self.app(scope, timed_receive, send)


def configure_request_log() -> None:
    """One line a request, in every worker process. `serve --workers N` starts each worker as a fresh
    (spawned) process: uvicorn configures only its own loggers there, so the root logger that
    `serve` set up in the parent has no handler and stands at WARNING, and the INFO request lines
    were dropped. A process whose root logger has no handler (a worker) gets a stderr handler on
    the service logger itself; where logging is already set up (`serve --workers 1`, tests) the lines
    propagate to it as before, never twice."""
    log.setLevel(logging.INFO)
    if logging.getLogger().handlers or any(getattr(h, "_request_log", False) for h in log.handlers):
        return
    handler = logging.StreamHandler()  # stderr, beside uvicorn's own lines
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler._request_log = True
    log.addHandler(handler)
    log.propagate = False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    configure_request_log()
    app = FastAPI(title="adjudicator", version=ENGINE_VERSION, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN: nothing from the network
                  description="Coverage adjudication for Japanese cyber and personal-information-leak insurance "
                              "for medical institutions. Requests carry `Authorization: Bearer TOKEN`.")
    app.state.ctx = Context(settings)
    body_seconds = float(os.environ.get("ADJUDICATOR_BODY_TIMEOUT") or BODY_SECONDS)

    # inside the request-log middleware (its task group would wrap BodyTimeout in an exception group),
    # so the 408 handler below sees it
    app.add_middleware(BodyDeadline, seconds=body_seconds)

    @app.middleware("http")
    async def one_log_line(request: Request, call_next):
        start = time.perf_counter()
        request.state.user = "-"
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")  # decisions hold personal information
        log.info("%s %s %s %.1fms %s%s", request.method, loggable(request.url.path), response.status_code,
                 (time.perf_counter() - start) * 1000, request.state.user,
                 getattr(request.state, "why", ""))
        return response

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect):
        # nothing failed here: the request line above says so (no trace); nobody reads this response
        request.state.why = " (the client disconnected before its body was read)"
        return Response(status_code=499)

    @app.exception_handler(BodyTimeout)
    async def body_timeout(request: Request, exc: BodyTimeout):
        request.state.why = f" (the body did not arrive within {body_seconds:g} s)"
        close = {"Connection": "close"}  # the rest of the body may still come: not on this connection
        if desk.is_desk(request.url.path):
            resp = desk.error_page(request, 408, "too_slow")
            resp.headers.update(close)
            return resp
        return JSONResponse(error_body("request_timeout", f"the request body did not arrive within {body_seconds:g} "
                                       "seconds"), status_code=408, headers=close)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse(error_body(exc.code, exc.message, exc.problems), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError):
        if desk.is_desk(request.url.path):  # /desk/en/ledger/records/abc, ?page=x: no such page (a desk page, not JSON)
            return desk.error_page(request, 404, "not_found")
        problems = [(field_path(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        return JSONResponse(error_body("invalid_request", "the request's parameters are not valid", problems),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if desk.is_desk(request.url.path):
            return desk.error_page(request, exc.status_code, "not_found" if exc.status_code == 404 else "bad_form")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(LedgerUnavailable)
    @app.exception_handler(LedgerDamaged)
    async def ledger_down(request: Request, exc: LedgerError):
        # a route that does not map ledger errors itself: the service's trouble (503), logged for the
        # operator; the message names "the service's ledger", never its path (context.py)
        log.warning("ledger unavailable on %s %s: %s", request.method, loggable(request.url.path), loggable(str(exc)))
        if desk.is_desk(request.url.path):
            return desk.error_page(request, 503, "ledger_unavailable")
        return JSONResponse(error_body("ledger_unavailable", str(exc).partition(": ")[2] or str(exc)),
                            status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, loggable(request.url.path))  # the trace stays in the log
        if desk.is_desk(request.url.path):
            return desk.error_page(request, 500, "internal_error")
        return JSONResponse(error_body("internal_error", "the server could not complete the request"), status_code=500)

    app.include_router(router)
    desk.register(app)  # the claims desk: pages under /desk/{ja|en}/ and their assets
    base_openapi = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = register_claim_schema(base_openapi())
        return app.openapi_schema
    app.openapi = openapi
    return app
