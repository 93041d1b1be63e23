"""Jinja2 templates for the web interface, and the German labels pages show for codes."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from contracts.agency import OfficeKind
from contracts.categories import DataCategory
from contracts.purposes import Purpose
from services.kernel.identity import Role

TEMPLATES = Path(__file__).parent / "templates"
BERLIN = ZoneInfo("Europe/Berlin")  # times are shown as the offices read them
STATUS = {"requested": "angefragt", "delivered": "zugestellt", "received": "Eingang bestätigt",
          "refused": "abgelehnt", "withheld": "zurückgehalten"}
STATUS_BADGE = {"requested": "info", "delivered": "info", "received": "success", "refused": "danger",
                "withheld": "danger"}
MESSAGE_TYPES = {"referral.v1": "Überleitung", "prechecked-referral.v1": "Vorgeprüfte Überleitung",
                 "notice.einbuergerung.v1": "Einbürgerungsmitteilung",
                 "feedback.nachforderung.v1": "Nachforderung", "feedback.termin.v1": "Termin",
                 "feedback.sachstand.v1": "Sachstand", "feedback.ergebnis.v1": "Ergebnis",
                 "feedback.nicht-zustaendig.v1": "Nicht zuständig", "rectification.v1": "Berichtigung (Art. 16 DSGVO)"}
ROLES = {Role.CASE_MANAGER: "Fallmanagement", Role.CLERK: "Sachbearbeitung", Role.DPO: "Datenschutz",
         Role.ADMIN: "Administration"}
DIRECTIONS = {"outbound": "an diese Stelle senden", "inbound": "von dieser Stelle Antworten empfangen",
              "both": "senden und Antworten empfangen"}
ITEM_STATUS = {"present": "liegt vor", "verified": "geprüft", "missing": "fehlt", "not_applicable": "entfällt"}


def _date(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value).strftime("%d.%m.%Y")
        except ValueError:
            return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(value, datetime):
        local = value.astimezone(BERLIN) if value.tzinfo else value
        return local.strftime("%d.%m.%Y, %H:%M Uhr")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def _day(value) -> str:
    """Only the day of a date or time (as in Germany)."""
    shown = _date(value)
    return shown.split(",")[0]


def _label(table: dict, value) -> str:
    return table.get(value, str(value))


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        datum=_date, tag=_day, status=lambda s: _label(STATUS, s), status_badge=lambda s: STATUS_BADGE.get(s, "info"),
        message_type=lambda t: _label(MESSAGE_TYPES, t), item_status=lambda s: _label(ITEM_STATUS, s),
        purpose=lambda p: Purpose(p).label if p in Purpose._value2member_map_ else p,
        category=lambda c: DataCategory(c).label if c in DataCategory._value2member_map_ else c,
        office_kind=lambda k: OfficeKind(k).label if k in OfficeKind._value2member_map_ else k,
        direction=lambda d: _label(DIRECTIONS, d), role=lambda r: _label(ROLES, r),
    )
    return env


_ENV = environment()


def page(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    """Render ``template`` with the signed-in actor, the CSRF token and the office names."""
    hub = request.app.state.hub
    actor = getattr(request.state, "actor", None)
    html = _ENV.get_template(template).render(
        request=request, actor=actor, csrf=getattr(request.state, "csrf", ""), offices=hub.directory.offices,
        office_name=lambda o: hub.directory.offices[o].name if o in hub.directory.offices else o,
        demo=hub.settings.auth_mode == "dev", purposes=list(Purpose), categories=list(DataCategory),
        office_kinds=list(OfficeKind), **context)
    return HTMLResponse(html, status_code=status_code)
