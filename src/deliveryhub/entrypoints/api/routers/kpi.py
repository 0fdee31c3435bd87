"""HTTP API of the KPI feature: compute, catalog, drill-down, export, target edits, manual values; and
the ops pages (dashboard, order timeline) that show them. The KPI feature does the work (kpi/engine.py,
kpi/admin.py, kpi/export.py); this module only speaks HTTP."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from deliveryhub.bootstrap import Hub
from deliveryhub.entrypoints.api.deps import get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.entrypoints.api.security import client_ip
from deliveryhub.entrypoints.web.pages import router as pages_router
from deliveryhub.kpi import admin
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.kpi.export import result_rows, to_csv, to_xlsx
from deliveryhub.kpi.periods import KpiQueryError, current_period
from deliveryhub.security.apikeys import Principal
from deliveryhub.views import drill

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])


def build_router(hub: Hub) -> APIRouter | None:
    """The KPI API and the ops pages (None when the KPI feature is not wired)."""
    if hub.kpi is None:
        return None
    both = APIRouter()
    both.include_router(router)
    both.include_router(pages_router)
    return both


def _engine(request: Request) -> KpiEngine:
    feature = get_hub(request).kpi
    if feature is None:  # the router is only included with the feature; defensive
        raise ApiError(404, "not_found", "KPIs are not enabled on this hub")
    return feature.engine


def _range(
    request: Request, date_from: str | None, date_to: str | None, tz: str | None
) -> tuple[str, str, str]:
    hub = get_hub(request)
    zone = tz or hub.settings.tz
    if date_from is None or date_to is None:
        try:
            start, _end, _ = current_period("month", zone, hub.clock.now())
        except KpiQueryError as exc:
            raise ApiError(422, "invalid_field", exc.message, exc.field) from None
        today = hub.clock.now().astimezone(ZoneInfo(zone)).date()
        date_from = date_from or start.isoformat()
        date_to = date_to or today.isoformat()
    return date_from, date_to, zone


def _bad(exc: KpiQueryError) -> ApiError:
    return ApiError(422, "invalid_field", exc.message, exc.field)


def _actor(p: Principal) -> str:
    return f"{p.kind}:{p.id}"


def _audit(request: Request, p: Principal, action: str, target: str, details: dict[str, Any]) -> None:
    get_hub(request).audit.record(_actor(p), action, target, details, client_ip(request))


@router.get("", summary="Compute KPIs / KPI 계산 (same JSON as `deliveryhub kpi compute`)")
def get_kpis(
    request: Request,
    _p: Annotated[Principal, Depends(require("kpis:read"))],
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    grain: str = "month",
    by: str | None = None,
    tz: str | None = None,
    kpi: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """{"from","to","grain","by","kpis":{KEY:{value,target,status,series,reason?}}}."""
    d0, d1, zone = _range(request, date_from, date_to, tz)
    keys = [k for item in (kpi or []) for k in item.split(",") if k] or None
    try:
        return _engine(request).compute(d0, d1, grain, by or None, zone, keys)
    except KpiQueryError as exc:
        raise _bad(exc) from None


@router.get("/catalog", summary="The KPI catalog / KPI 목록")
def get_catalog(request: Request, _p: Annotated[Principal, Depends(require("kpis:read"))]) -> dict[str, Any]:
    """Every KPI with names, unit, direction, target (admin overrides applied)."""
    eng = _engine(request)
    return {
        "kpis": [
            k.summary() | {"action_ko": k.action_ko, "action_en": k.action_en}
            for k in eng.with_overrides(eng.catalog.values())
        ]
    }


@router.get("/export", summary="Export a KPI table as CSV or XLSX / KPI 표 내보내기")
def export_kpis(
    request: Request,
    p: Annotated[Principal, Depends(require("kpis:read"))],
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    grain: str = "month",
    by: str | None = None,
    tz: str | None = None,
    format: str = "csv",  # noqa: A002 - the public query parameter name
) -> Response:
    """The flattened KPI table (total and series rows) as CSV (UTF-8 BOM for Excel) or XLSX."""
    if format not in ("csv", "xlsx"):
        raise ApiError(422, "invalid_field", "format: csv or xlsx", "format")
    d0, d1, zone = _range(request, date_from, date_to, tz)
    eng = _engine(request)
    try:
        result = eng.compute(d0, d1, grain, by or None, zone)
    except KpiQueryError as exc:
        raise _bad(exc) from None
    rows = result_rows(result, eng.catalog)
    name = f"kpis_{d0}_{d1}.{format}"
    # Data leaving the system is a privileged action: audited like every other export.
    details = {"format": format, "grain": grain, "by": by, "rows": len(rows)}
    _audit(request, p, "kpi.exported", f"kpis:{d0}..{d1}", details)
    if format == "csv":
        return Response(
            ("\ufeff" + to_csv(rows)).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )
    return Response(
        to_xlsx(rows),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{key}/orders", summary="Orders behind a KPI (drill-down) / KPI 근거 주문")
def kpi_orders(
    request: Request,
    key: str,
    _p: Annotated[Principal, Depends(require("kpis:read"))],
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    grain: str = "month",
    period: str | None = None,
    by: str | None = None,
    group: str | None = None,
    tz: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    scope: Annotated[str, Query(pattern="^(all|actionable)$")] = "all",
    lang: str = "ko",
) -> dict[str, Any]:
    """Order ids behind the numerator (ratios) or the population (means), newest/largest first; with
    `scope=actionable`, the open orders someone can still act on for this KPI (views/drill.py). Each
    order comes with its current stage, days late, carrier and open exception."""
    d0, d1, zone = _range(request, date_from, date_to, tz)
    hub = get_hub(request)
    try:
        today = hub.clock.now().astimezone(ZoneInfo(zone)).date()
    except (ValueError, KeyError):
        raise ApiError(422, "invalid_field", f"tz: unknown time zone {zone!r}", "tz") from None
    try:
        if scope == "actionable":
            _engine(request).kpi(key)  # an unknown KPI is a 404 in both scopes
            with hub.db.read() as conn:
                return drill.actionable_orders(conn, key, today, lang, limit)
        found = _engine(request).orders_behind(key, d0, d1, zone, grain, period, by, group, limit)
    except KpiQueryError as exc:
        if exc.field == "kpi":
            raise ApiError(404, "not_found", exc.message, "key") from None
        raise _bad(exc) from None
    with hub.db.read() as conn:
        states = {
            r["order_id"]: r
            for r in drill.describe_orders(conn, [o["order_id"] for o in found["orders"]], today, lang)
        }
    found["orders"] = [{**states.get(o["order_id"], {}), **o} for o in found["orders"]]
    return found


class TargetIn(BaseModel):
    """A target edit: '< 0.03', '>= 0.98', '-40% vs previous', a number, or null to clear."""

    target: str | float | None = None
    warning: float | None = None


@router.put("/{key}/target", summary="Change a KPI target / KPI 목표 변경 (audited)")
def put_target(
    request: Request,
    key: str,
    body: TargetIn,
    p: Annotated[Principal, Depends(require("kpis:admin"))],
) -> dict[str, Any]:
    """Override the catalog target and warning threshold of one KPI."""
    eng = _engine(request)
    try:
        before, after = admin.set_target(get_hub(request), eng, key, body.target, body.warning, _actor(p))
    except KeyError:
        raise ApiError(404, "not_found", f"unknown KPI {key!r}", "key") from None
    except ValueError as exc:
        raise ApiError(422, "invalid_field", f"target: {exc}", "target") from None
    _audit(
        request,
        p,
        "kpi.target_changed",
        key,
        {"before": before, "after": {"target": after["target"], "warning": body.warning}},
    )
    return {"key": key, **after}


class ManualIn(BaseModel):
    """One manual KPI value."""

    key: str
    period: date
    value: float
    group: str | None = None


def _manual_error(exc: admin.ManualInputError) -> ApiError:
    if exc.too_many:
        return ApiError(413, "too_many_rows", exc.message, exc.field)
    return ApiError(422, "invalid_field", exc.message, exc.field)


@router.post("/manual", summary="Enter manual KPI values (JSON or CSV upload) / 수기 KPI 값 입력")
async def post_manual(
    request: Request, p: Annotated[Principal, Depends(require("kpis:admin"))]
) -> dict[str, Any]:
    """JSON {key, period, value, group?} or a CSV body / multipart file with key,period,value[,group]."""
    hub = get_hub(request)
    known = set(_engine(request).catalog)
    ctype = request.headers.get("content-type", "")
    rows: list[dict[str, Any]]
    try:
        if ctype.startswith("application/json"):
            try:
                item = ManualIn.model_validate_json(await request.body())
            except ValueError as exc:
                field = str(exc).split("\n")[1].strip() if "\n" in str(exc) else None
                raise ApiError(
                    422, "invalid_field", f"{field or 'body'}: invalid manual value", field
                ) from None
            if item.key not in known:
                raise ApiError(422, "invalid_field", f"key: unknown KPI {item.key!r}", "key")
            rows = [{"key": item.key, "period": item.period, "grp": item.group or "", "value": item.value}]
        elif ctype.startswith("multipart/form-data"):
            form = await request.form()
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ApiError(422, "invalid_field", "file: attach the CSV as `file`", "file")
            rows = admin.parse_manual_csv(admin.decode_csv(await upload.read()), known)
        else:
            rows = admin.parse_manual_csv(admin.decode_csv(await request.body()), known)
    except admin.ManualInputError as exc:
        raise _manual_error(exc) from None
    stored = admin.store_manual(hub, rows, _actor(p))
    _audit(request, p, "kpi.manual_values", ",".join(sorted({r["key"] for r in rows})), {"rows": stored})
    return {"stored": stored}
