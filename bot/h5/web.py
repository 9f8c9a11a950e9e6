"""The H5 blueprint object, page rendering with a per-response CSP nonce, and the headers every H5 answer carries."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="../templates")

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def nonce() -> str:
    """Return this request's CSP nonce for the page's one <style> and <script>."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


@bp.context_processor
def _template_globals() -> dict[str, Any]:
    """Give H5 templates csp_nonce()."""
    return {"csp_nonce": nonce}


def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render templates/h5/<template> with context and return it with status."""
    return Response(render_template(f"h5/{template}", **context), status=status, mimetype="text/html")


def message(text: str, status: int, title: str = "瞭望", link: tuple[str, str] | None = None,
            **context: Any) -> Response:
    """Return a small Chinese page that says text (a refusal, an error or a notice), with an optional link."""
    return page("message.html", status, title=title, text=text, link=link, **context)


@bp.after_request
def _headers(resp: Response) -> Response:
    """Add nosniff, no referrer, no caching, no framing (except by [web] frame_ancestors) and a strict CSP."""
    for key, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(key, value)
    resp.headers.setdefault("Cache-Control", "no-store")
    ancestors = current_app.extensions["liaowang"].config.frame_ancestors
    if not ancestors:
        resp.headers.setdefault("X-Frame-Options", "DENY")
    if resp.mimetype == "text/html":
        n, frame = nonce(), ancestors or "'none'"
        resp.headers["Content-Security-Policy"] = (
            f"default-src 'none'; img-src 'self'; style-src 'nonce-{n}'; script-src 'nonce-{n}'; "
            f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame}")
    return resp
