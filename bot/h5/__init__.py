"""H5 pages opened in WeCom's in-app browser: OAuth2 login, written-report upload, report viewer, file download."""

from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.exceptions import HTTPException

from core.config import Config


def blueprint() -> Blueprint:
    """The /h5 blueprint with every page's routes attached (all of them, before any app registers it)."""
    from bot.h5 import board, briefpage, calendar, cardpage, ledger, stats, step, views  # noqa: F401 - attach routes
    from bot.h5.web import bp

    return bp


def init_app(app: Flask, config: Config) -> None:
    """Configure the signed session cookie for config and register the /h5 blueprint on app."""
    from bot.h5.auth import configure
    from bot.h5.web import error_page

    configure(app, config)
    app.register_blueprint(blueprint())
    app.register_error_handler(HTTPException, error_page)
