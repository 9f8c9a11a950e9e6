"""The H5 blueprint object, page rendering with a per-response CSP nonce, and the headers every H5 answer carries."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from core.args import CODE

bp = Blueprint("h5", __name__, url_prefix="/h5", template_folder="../templates")

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def nonce() -> str:
    """Return this request's CSP nonce for the page's one <style> and <script>."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    """Give H5 templates csp_nonce()."""
    return {"csp_nonce": nonce}


@bp.app_template_filter("codes")
def link_codes(text: object) -> Markup:
    """Return text escaped, with every 编号 in it a link to that item's case file."""
    out, at, plain = [], 0, str(text)
    for found in CODE.finditer(plain):
        code = found.group(0)
        href = url_for("h5.viewer", code=code)
        out += [escape(plain[at : found.start()]), Markup('<a href="{}">{}</a>').format(href, code)]
        at = found.end()
    out.append(escape(plain[at:]))
    return Markup("").join(out)


def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render templates/h5/<template> with context and return it with status."""
    return Response(render_template(f"h5/{template}", **context), status=status, mimetype="text/html")


def message(
    text: str, status: int, title: str = "瞭望", link: tuple[str, str] | None = None, **context: Any
) -> Response:
    """Return a small Chinese page that says text (a refusal, an error or a notice), with an optional link."""
    return page("message.html", status, title=title, text=text, link=link, **context)


ERRORS = {
    400: "请求的格式不对，没有做任何改动。",
    403: "您无权打开这个页面。",
    404: "没有这个页面。请从企业微信里的应用菜单或消息卡片打开。",
    405: "这个网址不能这样打开。请从企业微信里的应用菜单或消息卡片打开。",
    413: "提交的内容太大，没有保存任何内容。",
    500: "服务器出错了，请稍后再试；一直这样请联系管理员。",
}


def error_page(exc: HTTPException) -> Response:
    """Return the Chinese page for an HTTP error nobody answered more specifically (404, 405, 500 …)."""
    status = exc.code or 500
    resp = message(ERRORS.get(status, f"请求没有成功（{status}）。"), status)
    if status == 405 and isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return _headers(resp)


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
            f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {frame}"
        )
    return resp
