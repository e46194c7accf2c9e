"""The HTTP application: FastAPI, versioned JSON API under /api/v1, OpenAPI at /openapi.json.

durable_rules is not thread-safe: every engine call (decide, render) runs under context.ENGINE_LOCK,
so one process never runs two at once; throughput comes from processes (`serve --workers N`).
"""
from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..contract.load import field_path
from ..decide import ENGINE_VERSION
from .api import register_claim_schema, router
from .context import ApiError, Context, error_body
from .desk import routes as desk
from .settings import Settings

log = logging.getLogger("adjudicator.service")
LOG_FORMAT = "%(asctime)s %(message)s"


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

    @app.middleware("http")
    async def one_log_line(request: Request, call_next):
        start = time.perf_counter()
        request.state.user = "-"
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")  # decisions hold personal information
        log.info("%s %s %s %.1fms %s", request.method, request.url.path, response.status_code,
                 (time.perf_counter() - start) * 1000, request.state.user)
        return response

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return JSONResponse(error_body(exc.code, exc.message, exc.problems), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError):
        problems = [(field_path(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        return JSONResponse(error_body("invalid_request", "the request's parameters are not valid", problems),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if desk.is_desk(request.url.path):
            return desk.error_page(request, exc.status_code, "not_found" if exc.status_code == 404 else "bad_form")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)  # the trace stays in the log
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
