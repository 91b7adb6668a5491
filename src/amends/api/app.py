"""The application factory: the REST API under /api/v1 and the web pages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from amends import __version__
from amends.api.auth import Unauthenticated, require_principal
from amends.config import Settings
from amends.db import make_engine, utcnow
from amends.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    InvalidTransition,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    ReplyBlocked,
    UnsupportedMediaType,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[DomainError], int]] = [
    (Unauthenticated, 401),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (MalformedRequest, 400),
    (NotFound, 404),
    (Forbidden, 403),
    (Gone, 410),
    (InvalidTransition, 409),
    (Conflict, 409),
    (InvalidInput, 422),
    (ReplyBlocked, 422),
]


def status_for(error: DomainError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def _document_extra_schemas(app: FastAPI) -> None:
    """Add body schemas that routes read by hand (to quarantine bad items) to the OpenAPI."""
    from fastapi.openapi.utils import get_openapi

    from amends.feedback.schemas import FeedbackIn

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            extra = FeedbackIn.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(extra.pop("$defs", {}))
            schemas["FeedbackIn"] = extra
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI from files installed with the package: the docs work with no network."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html

    assets = Path(fastapi_offline.__file__).parent / "static"
    app.mount("/api/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json",
            title="amends API",
            swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/api/docs-assets/swagger-ui.css",
            swagger_favicon_url="/api/docs-assets/favicon.png",
        )


def _safe_headers(request: Request, response: Response) -> None:
    """Pages may run only their own scripts; nothing frames anything or sniffs types."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.url.path.startswith("/api/docs"):
        # Swagger UI runs an inline script of its own: only framing is refused there.
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    elif not request.url.path.startswith("/api/v1/"):
        from amends.web.render import CSP

        response.headers.setdefault("Content-Security-Policy", CSP)


_PAGE_TITLES = {
    401: "Please sign in",
    403: "Not yours to open",
    404: "Not found",
    409: "That cannot be done now",
    410: "Gone",
    422: "Please check what you entered",
}


def _page_error(request: Request, exc: DomainError) -> Response:
    """A domain error on a web page: a page that says what went wrong (or the sign-in page)."""
    from amends.web.auth import SignInRequired, sign_in_redirect
    from amends.web.render import error_page

    if isinstance(exc, SignInRequired):
        return sign_in_redirect(request)
    status = status_for(exc)
    return error_page(request, status, _PAGE_TITLES.get(status, "Something went wrong"), exc.detail)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the app; tests pass their own engine and clock."""
    from amends.cases.routes import router as cases_router
    from amends.customers.routes import router as customers_router
    from amends.feedback.routes import router as feedback_router
    from amends.followups.routes import router as followups_router
    from amends.incidents.routes import router as incidents_router
    from amends.offers.routes import router as offers_router
    from amends.outbound.routes import router as outbound_router
    from amends.playbook.routes import router as playbook_router
    from amends.problems.routes import router as problems_router
    from amends.replies.routes import router as replies_router
    from amends.reports.routes import router as reports_router
    from amends.taxonomy.routes import router as taxonomy_router
    from amends.teams.routes import notifications_router
    from amends.teams.routes import router as teams_router
    from amends.users.routes import router as users_router
    from amends.web.routes import router as web_router

    app = FastAPI(
        title="amends",
        version=__version__,
        description="The service-recovery desk: feedback in, cases, customers.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine if engine is not None else make_engine(settings.database_url)
    app.state.clock = clock

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        if not request.url.path.startswith("/api/"):
            return _page_error(request, exc)
        body: dict[str, object] = {"code": exc.code, "detail": exc.detail}
        if isinstance(exc, ReplyBlocked):
            body["findings"] = exc.findings
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
        return JSONResponse(body, status_code=status_for(exc), headers=headers)

    @app.middleware("http")
    async def _body_rules(request: Request, call_next: Any) -> Any:
        """Every JSON endpoint refuses a body over the payload limit (413) and a body that
        is not JSON (415) before reading it; /feedback and /playbook read their own."""
        if request.method in ("POST", "PUT", "PATCH") and request.url.path.startswith("/api/"):
            own = request.url.path.rstrip("/") in ("/api/v1/feedback", "/api/v1/playbook")
            size = request.headers.get("content-length")
            if not own and size is not None and size.isdigit():
                if int(size) > settings.max_payload_bytes:
                    return JSONResponse(
                        {
                            "code": "payload_too_large",
                            "detail": f"body of {size} bytes is over the limit of "
                            f"{settings.max_payload_bytes} bytes",
                        },
                        status_code=413,
                    )
                kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if int(size) > 0 and kind != "application/json":
                    return JSONResponse(
                        {
                            "code": "unsupported_media_type",
                            "detail": "send the body as application/json",
                        },
                        status_code=415,
                    )
        return await call_next(request)

    @app.middleware("http")
    async def _page_headers(request: Request, call_next: Any) -> Any:
        """Pages may run only their own scripts; nothing frames them or sniffs types."""
        response = await call_next(request)
        _safe_headers(request, response)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """A page that is not there, or asked for the wrong way: a page saying so; the API
        answers in its own shape."""
        codes = {404: "not_found", 405: "method_not_allowed"}
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse(
                {"code": codes.get(exc.status_code, "error"), "detail": str(exc.detail)},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        from amends.web.render import error_page

        detail = {
            404: "There is no page at this address.",
            405: "This address takes a form, not a visit: go back to the page you came from.",
        }.get(exc.status_code, str(exc.detail))
        return error_page(
            request,
            exc.status_code,
            _PAGE_TITLES.get(exc.status_code, "Something went wrong"),
            detail,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if not request.url.path.startswith("/api/"):
            from amends.web.render import error_page

            where = "; ".join(
                f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
                for e in exc.errors()
            )
            return error_page(
                request, 422, _PAGE_TITLES[422], f"This address is not right ({where})."
            )
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return JSONResponse(
                {"code": "malformed_request", "detail": "the body is not valid JSON"},
                status_code=400,
            )
        # Say where and what, but never echo the input back.
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{p['where']}: {p['problem']}" for p in problems)
        return JSONResponse(
            {"code": "invalid_input", "detail": detail, "errors": problems}, status_code=422
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        response = JSONResponse(
            {"code": "internal_error", "detail": "unexpected error; it has been logged"},
            status_code=500,
        )
        _safe_headers(request, response)
        return response

    for router in (
        feedback_router,
        customers_router,
        cases_router,
        teams_router,
        notifications_router,
        taxonomy_router,
        outbound_router,
        reports_router,
        replies_router,
        incidents_router,
        problems_router,
        playbook_router,
        followups_router,
        offers_router,
        users_router,
    ):
        app.include_router(router, prefix="/api/v1", dependencies=[Depends(require_principal)])
    app.include_router(web_router)
    _document_extra_schemas(app)
    _offline_docs(app)
    app.mount(
        "/static",
        StaticFiles(directory=Path(__file__).parent.parent / "web" / "static"),
        name="static",
    )
    return app
