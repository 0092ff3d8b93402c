"""Web pages for operators: overview, accounts, dead letters, tokens, OAuth2 apps, settings,
API docs; and the hosted "Connect your mailbox" page for end users (Jinja2, no JavaScript).

`install(app)` adds the routers, the static files and the two exception handlers of the pages
(sign-in redirect, refused form). See `session.py` for sign-in, cookies and CSRF.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    from imapapi.ui import (
        auth,
        connect_page,
        dead_letters,
        oauth2_apps_page,
        pages,
        settings_page,
        tokens_page,
    )
    from imapapi.ui.render import CsrfError, LoginRequired, on_csrf_error, on_login_required
    from imapapi.ui.session import signed_in
    from imapapi.ui.throttle import SignInThrottle

    app.state.sign_in_throttle = SignInThrottle()
    app.state.page_signed_in = signed_in  # lets a signed-in page read GET /v1 (api/deps.py)
    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(settings_page.router)
    app.include_router(dead_letters.router)
    app.include_router(tokens_page.router)
    app.include_router(oauth2_apps_page.router)
    app.include_router(connect_page.router)  # end users, no sign-in: the link is the key
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(CsrfError, on_csrf_error)
