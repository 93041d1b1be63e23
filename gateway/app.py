"""The FastAPI application. Thin: authentication, validation, problem+json; the work is in services/."""
from fastapi import Depends, FastAPI

from gateway import docs, observability, openapi_texts, problems, web
from gateway.auth import TokenVerifier
from gateway.limits import BodySizeLimit
from gateway.routes import (admin, audit, cases, checklists, consents, inbox, meta, notifications, revocations,
                            rights, transfers)
from gateway.storable import reject_unstorable


def create_app(hub) -> FastAPI:
    app = FastAPI(
        title="kimhub",
        version="0.1.0",
        description="Einwilligungsgesteuerte Übermittlungen zwischen Behörden (KIM NRW).",
        dependencies=[Depends(reject_unstorable)],
        docs_url=None, redoc_url=None,  # served from the hub's own assets: gateway/docs.py
    )
    app.state.hub = hub
    app.state.verifier = TokenVerifier(hub.settings, set(hub.directory.offices))
    problems.install(app)
    docs.install(app, hub.settings.node_modules)
    openapi_texts.install(app)
    for router in (meta.router, consents.router, consents.persons, transfers.router, inbox.router, audit.router,
                   admin.router, checklists.router, revocations.router, revocations.dpo_router,
                   notifications.router, cases.router, rights.router):
        app.include_router(router)
    web.install(app)  # the German web interface under /ui (and / to its start page)
    app.add_middleware(BodySizeLimit, max_bytes=hub.settings.max_body_bytes,
                       overrides={"/documents": hub.settings.max_document_bytes,
                                  "/ui/": hub.settings.max_document_bytes + 65536})
    observability.install(app)
    return app
