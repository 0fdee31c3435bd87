"""HTTP API of the KPI feature: compute, catalog, drill-down, export, target edits, manual values."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from deliveryhub.adapters.persistence.database import upsert
from deliveryhub.entrypoints.api.deps import get_hub, require
from deliveryhub.entrypoints.api.errors import ApiError
from deliveryhub.kpi.catalog import Target
from deliveryhub.kpi.engine import KpiEngine, KpiQueryError, current_period, engine_for
from deliveryhub.kpi.tables import kpi_manual_values, kpi_targets
from deliveryhub.security.apikeys import Principal

router = APIRouter(prefix="/v1/kpis", tags=["kpis"])
MAX_MANUAL_ROWS = 10_000


def _engine(request: Request) -> KpiEngine:
    return engine_for(get_hub(request))


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
        today = hub.clock.now().astimezone(__import__("zoneinfo").ZoneInfo(zone)).date()
        date_from = date_from or start.isoformat()
        date_to = date_to or today.isoformat()
    return date_from, date_to, zone


def _bad(exc: KpiQueryError) -> ApiError:
    return ApiError(422, "invalid_field", exc.message, exc.field)


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
    from deliveryhub.kpi.cli import result_rows, to_csv, to_xlsx

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
    _audit(request, p, "kpi.exported", f"kpis:{d0}..{d1}", {"format": format, "grain": grain, "by": by,
                                                            "rows": len(rows)})
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
) -> dict[str, Any]:
    """Order ids behind the numerator (ratios) or the population (means), newest/largest first."""
    d0, d1, zone = _range(request, date_from, date_to, tz)
    try:
        return _engine(request).orders_behind(key, d0, d1, zone, grain, period, by, group, limit)
    except KpiQueryError as exc:
        if exc.field == "kpi":
            raise ApiError(404, "not_found", exc.message, "key") from None
        raise _bad(exc) from None


class TargetIn(BaseModel):
    """A target edit: '< 0.03', '>= 0.98', '-40% vs previous', a number, or null to clear."""

    target: str | float | None = None
    warning: float | None = None


def _actor(p: Principal) -> str:
    return f"{p.kind}:{p.id}"


def _audit(request: Request, p: Principal, action: str, target: str, details: dict[str, Any]) -> None:
    hub = get_hub(request)
    audit = hub.services.get("audit")
    if audit is not None:
        audit(_actor(p), action, target, details, request.client.host if request.client else None)


@router.put("/{key}/target", summary="Change a KPI target / KPI 목표 변경 (audited)")
def put_target(
    request: Request,
    key: str,
    body: TargetIn,
    p: Annotated[Principal, Depends(require("kpis:admin"))],
) -> dict[str, Any]:
    """Override the catalog target and warning threshold of one KPI."""
    eng = _engine(request)
    if key not in eng.catalog:
        raise ApiError(404, "not_found", f"unknown KPI {key!r}", "key")
    try:
        parsed = Target.parse(body.target)
    except ValueError as exc:
        raise ApiError(422, "invalid_field", f"target: {exc}", "target") from None
    before = eng.kpi(key)
    hub = get_hub(request)
    with hub.db.write() as conn:
        upsert(
            conn,
            kpi_targets,
            [
                {
                    "key": key,
                    "target": parsed.text() if parsed else None,
                    "warning": body.warning,
                    "updated_by": _actor(p),
                    "updated_at": hub.clock.now(),
                }
            ],
            ["key"],
        )
    _audit(
        request,
        p,
        "kpi.target_changed",
        key,
        {
            "before": {"target": before.target.text() if before.target else None, "warning": before.warning},
            "after": {"target": parsed.text() if parsed else None, "warning": body.warning},
        },
    )
    after = eng.kpi(key)
    return {"key": key, "target": after.target.text() if after.target else None, "warning": after.warning}


class ManualIn(BaseModel):
    """One manual KPI value."""

    key: str
    period: date
    value: float
    group: str | None = None


def _parse_manual_csv(text: str, known: set[str]) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or not {"key", "period", "value"} <= set(reader.fieldnames):
        raise ApiError(
            422, "invalid_field", "csv: header must have key,period,value (and optional group)", "csv"
        )
    rows = []
    for n, r in enumerate(reader, start=2):
        if n > MAX_MANUAL_ROWS + 1:
            raise ApiError(413, "too_many_rows", f"csv: at most {MAX_MANUAL_ROWS} rows", "csv")
        key = (r.get("key") or "").strip()
        if key not in known:
            raise ApiError(422, "invalid_field", f"line {n}: key: unknown KPI {key!r}", "key")
        try:
            period = date.fromisoformat(
                (r.get("period") or "").strip()[:10]
                if len((r.get("period") or "").strip()) > 7
                else (r.get("period") or "").strip() + "-01"
            )
        except ValueError:
            raise ApiError(
                422, "invalid_field", f"line {n}: period: YYYY-MM or YYYY-MM-DD", "period"
            ) from None
        try:
            value = float((r.get("value") or "").strip())
        except ValueError:
            raise ApiError(422, "invalid_field", f"line {n}: value: not a number", "value") from None
        rows.append({"key": key, "period": period, "grp": (r.get("group") or "").strip(), "value": value})
    return rows


@router.post("/manual", summary="Enter manual KPI values (JSON or CSV upload) / 수기 KPI 값 입력")
async def post_manual(
    request: Request, p: Annotated[Principal, Depends(require("kpis:admin"))]
) -> dict[str, Any]:
    """JSON {key, period, value, group?} or a CSV body / multipart file with key,period,value[,group]."""
    hub = get_hub(request)
    eng = engine_for(hub)
    known = set(eng.catalog)
    ctype = request.headers.get("content-type", "")
    rows: list[dict[str, Any]]
    if ctype.startswith("application/json"):
        try:
            item = ManualIn.model_validate_json(await request.body())
        except ValueError as exc:
            field = str(exc).split("\n")[1].strip() if "\n" in str(exc) else None
            raise ApiError(422, "invalid_field", f"{field or 'body'}: invalid manual value", field) from None
        if item.key not in known:
            raise ApiError(422, "invalid_field", f"key: unknown KPI {item.key!r}", "key")
        rows = [{"key": item.key, "period": item.period, "grp": item.group or "", "value": item.value}]
    elif ctype.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "invalid_field", "file: attach the CSV as `file`", "file")
        raw = await upload.read()
        rows = _parse_manual_csv(_decode(raw), known)
    else:
        rows = _parse_manual_csv(_decode(await request.body()), known)
    now = datetime.now(UTC)
    with hub.db.write() as conn:
        upsert(
            conn,
            kpi_manual_values,
            [{**r, "entered_by": _actor(p), "entered_at": now} for r in rows],
            ["key", "period", "grp"],
        )
    _audit(request, p, "kpi.manual_values", ",".join(sorted({r["key"] for r in rows})), {"rows": len(rows)})
    return {"stored": len(rows)}


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "cp949"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ApiError(422, "invalid_field", "csv: encoding must be UTF-8 or CP949", "csv")


def manual_rows_count(conn: Any) -> int:
    """Number of stored manual values (for diagnostics)."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(kpi_manual_values)).scalar() or 0)
