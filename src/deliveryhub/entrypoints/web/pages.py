"""Routes of the ops pages: `/` dashboard, static CSS/JS, the plotly bundle (order pages: orders.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from deliveryhub.entrypoints.api.deps import get_hub
from deliveryhub.entrypoints.web.auth import PageAuth, page_require
from deliveryhub.entrypoints.web.i18n import label_tables, lang_of, texts
from deliveryhub.kernel.labels import label, labels
from deliveryhub.kernel.timefmt import format_target, unit_suffix
from deliveryhub.security.rbac import permits

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
router = APIRouter(include_in_schema=False)
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
env.globals["label"] = label  # the one label table, for words every page shares (header search)
# The ops work screens (entrypoints/web/ops.py): (path, label key in `ops_page`, permission to open it).
OPS_TABS = (
    ("/ops/exceptions", "nav_exceptions", "exceptions:read"),
    ("/ops/compensations", "nav_compensations", "exceptions:read"),
    ("/ops/returns", "nav_returns", "orders:read"),
    ("/ops/quarantine", "nav_quarantine", "quarantine:manage"),
    ("/ops/dead-letters", "nav_dead_letters", "notifications:read"),
)


def ops_home(principal: Any) -> str | None:
    """The first ops screen this principal may open (the header's 운영 업무 link), or None."""
    for path, _key, permission in OPS_TABS:
        if principal is not None and permits(principal, permission):
            return path
    return None


env.globals["ops_home"] = ops_home
UNITS = ("rate", "days", "hours", "minutes", "count", "currency", "score", "kg")  # the catalog's units
DASHBOARD_KPIS = (
    "on_time_delivery_rate",
    "delivery_delay_rate",
    "delay_unnotified_rate",
    "misdelivery_rate",
    "order_processing_hours",
    "avg_delivery_days",
    "tracking_stale_rate",
    "notification_automation_rate",
    "notification_missing_rate",
    "cs_first_response_minutes",
    "voc_response_rate",
    "cs_automation_rate",
    "return_rate",
    "claims_count",
    "csat",
    "inventory_accuracy",
)


@lru_cache(maxsize=1)
def plotly_js() -> Path:
    """plotly.min.js shipped inside the installed plotly package (never copied into this repo)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _lang_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    if lang == "ko":
        params.pop("lang", None)
    else:
        params["lang"] = lang
    return request.url.path + ("?" + urlencode(params) if params else "")


def render(request: Request, template: str, auth: PageAuth, **ctx: Any) -> HTMLResponse:
    """A page in the base layout, in the request's language."""
    lang = lang_of(request)
    t = texts(lang)
    other = "ko" if lang == "en" else "en"
    html = env.get_template(template).render(
        t=t,
        lang=lang,
        lang_switch_url=_lang_url(request, other),
        principal=auth.principal,
        path=request.url.path,
        **ctx,
    )
    return HTMLResponse(html, headers={"cache-control": "no-store"})


def _target_texts(hub: Any, lang: str) -> dict[str, str]:
    """Each dashboard KPI's target in its value's unit ("3% 미만"), admin overrides applied."""
    feature = getattr(hub, "kpi", None)
    if feature is None:
        return {}
    engine = feature.engine
    out = {}
    for k in engine.with_overrides(engine.catalog[key] for key in DASHBOARD_KPIS if key in engine.catalog):
        if k.target is not None:
            target = k.target
            # A bare number: the direction decides which side is on target.
            op = target.op or ("<=" if k.direction == "lower" else ">=")
            out[k.key] = format_target(op, target.threshold, target.change_vs_previous, k.unit, lang)
    return out


@router.get("/")
def dashboard(request: Request, auth: Annotated[PageAuth, Depends(page_require("kpis:read"))]) -> Response:
    """The ops dashboard: KPI tiles, trends, split, exception board, drill-down (data via /v1 APIs)."""
    if auth.response is not None:
        return auth.response
    hub = get_hub(request)
    q = request.query_params
    tz = q.get("tz") or hub.settings.tz
    try:
        zone = ZoneInfo(tz)
    except Exception:
        zone, tz = ZoneInfo(hub.settings.tz), hub.settings.tz
    today = hub.clock.now().astimezone(zone).date()
    config = {
        "from": q.get("from") or today.replace(day=1).isoformat(),
        "to": q.get("to") or today.isoformat(),
        "grain": q.get("grain") if q.get("grain") in ("day", "week", "month") else "day",
        "by": q.get("by") if q.get("by") in ("carrier", "warehouse", "channel", "region", "category") else "",
        "tz": tz,
        "lang": lang_of(request),
        "kpis": list(DASHBOARD_KPIS),
        "refresh_seconds": 10,
        "t": texts(lang_of(request)),
        "labels": label_tables(lang_of(request)),
        "targets": _target_texts(hub, lang_of(request)),
        "units": {u: unit_suffix(u, lang_of(request)) for u in UNITS},
        "drill_words": labels("order_page", lang_of(request)),  # the drill-down's words (drill.js)
        "ops_words": {"no_exceptions": label("ops_page", "no_open_exceptions", lang_of(request))},
    }
    return render(
        request, "dashboard.html", auth, config=config, config_json=json.dumps(config, ensure_ascii=False)
    )


@router.get("/static/ops/{name}")
def static_file(name: str) -> Response:
    """CSS/JS of the ops pages."""
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file() or path.suffix not in STATIC_TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"cache-control": "no-cache"})


@router.get("/static/vendor/plotly.min.js")
def plotly_bundle() -> Response:
    """The charting library, served from the installed plotly package."""
    return FileResponse(
        plotly_js(),
        media_type="text/javascript; charset=utf-8",
        headers={"cache-control": "public, max-age=86400"},
    )


FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
    b'fill="#111827"/><path d="M3 5l5-3 5 3v6l-5 3-5-3z" fill="#60a5fa"/></svg>'
)


@router.get("/favicon.ico")
def favicon() -> Response:
    """The site icon (browsers ask for it on every page)."""
    return Response(FAVICON, media_type="image/svg+xml", headers={"cache-control": "public, max-age=86400"})
