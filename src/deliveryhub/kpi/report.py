"""The monthly KPI/VOC report: summary, KPI table against targets and industry averages (values and
targets in their units), trend charts over every month with data (matplotlib, offline), VOC category
shares against the study's reference shares, the month's exceptions and late deliveries by type with
counts and examples, and improvement actions for what is off target with the evidence behind each.
HTML, or PDF through WeasyPrint."""

from __future__ import annotations

import base64
import io
import re
from collections import Counter
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from deliveryhub.kernel import labels as kl
from deliveryhub.kernel.timefmt import format_date, format_month, format_number, format_target, unit_suffix
from deliveryhub.kpi.catalog import KpiDef
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.kpi.measures import evaluate_status
from deliveryhub.kpi.peer_queries import delay_notices_sent, exceptions_in, exceptions_recorded
from deliveryhub.kpi.periods import period_end

HERE = Path(__file__).parent
VOC_CATEGORIES = (
    "delivery_delay",
    "wrong_item",
    "damaged",
    "missing",
    "status_notice",
    "cs_response",
    "return_exchange",
    "product_quality",
    "price_payment",
    "positive",
    "other",
)
VOC_NAMES = kl.pairs("voc")  # the kernel's one label table (the CS desk and the bot use it too)
# Reference shares of CS contacts from the operations study (CS.md).
VOC_REFERENCE = (
    (("delivery_delay",), (0.35, 0.58), ("배송 지연", "Delivery delay")),
    (("wrong_item", "damaged"), (0.10, 0.14), ("오배송·파손", "Wrong item / damage")),
    (("status_notice",), (0.17, 0.25), ("배송상태 안내", "Status notice")),
)
REPORT_KPIS = (
    "on_time_delivery_rate",
    "delivery_delay_rate",
    "delay_unnotified_rate",
    "avg_delivery_days",
    "avg_transit_days",
    "order_processing_hours",
    "misdelivery_rate",
    "order_error_rate",
    "damage_rate",
    "return_rate",
    "stockout_rate",
    "inventory_accuracy",
    "inventory_sync_error_rate",
    "tracking_stale_rate",
    "stage_automation_rate",
    "notification_automation_rate",
    "notification_missing_rate",
    "cs_first_response_minutes",
    "cs_resolution_hours",
    "voc_response_rate",
    "cs_automation_rate",
    "claims_count",
    "csat",
    "csat_mean",
    "nps",
    "shipping_cost_to_sales",
    "logistics_cost_to_revenue",
    "green_packaging_rate",
    "eta_accuracy",
    "aov",
    "repeat_purchase_rate",
    "data_quarantine_rate",
)
TREND_KPIS = (
    "delivery_delay_rate",
    "notification_missing_rate",
    "order_processing_hours",
    "avg_delivery_days",
    "cs_first_response_minutes",
    "csat",
)
VOC_SOURCES = {
    "stored": "상담 시 저장된 분류",
    "stored+classified": "저장된 분류와 자동 분류",
    "stored (unclassified as other)": "저장된 분류(미분류는 기타)",
}
MAX_TREND_MONTHS = 24  # trends reach back to the first month with orders, at most this far
EXAMPLES = 3  # example orders per exception type / carrier
STATUS_NAMES = {
    "ok": "달성 OK",
    "warning": "경고 Warning",
    "breach": "미달 Breach",
    "no_target": "목표 없음 No target",
    "no_data": "데이터 없음 No data",
    "low_sample": "표본 부족 Too few",
}
KOREAN_FONTS = ("Noto Sans CJK KR", "NanumGothic", "Noto Sans KR", "Malgun Gothic", "AppleGothic")
# KPIs a breach of which the month's late deliveries explain, and those exceptions of a type explain.
DELAY_KPIS = ("delivery_delay_rate", "on_time_delivery_rate", "avg_delivery_days", "avg_transit_days")
EXCEPTION_KPIS = {
    "tracking_stale_rate": ("tracking_stale",),
    "inventory_accuracy": ("inventory_mismatch", "stock_shortage"),
    "inventory_sync_error_rate": ("inventory_mismatch",),
    "stockout_rate": ("stock_shortage",),
    "order_processing_hours": ("dispatch_delay", "waybill_missing", "handover_missing"),
    "notification_missing_rate": ("notice_missing",),
    "delay_unnotified_rate": ("notice_missing", "delay_risk"),
}
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def parse_month(month: str) -> tuple[date, date]:
    """'YYYY-MM' → (first day, last day); ValueError naming --month otherwise."""
    if not re.fullmatch(r"\d{4}-\d{2}", month or ""):
        raise ValueError(f"--month: expected YYYY-MM, got {month!r}")
    try:
        start = date(int(month[:4]), int(month[5:]), 1)
    except ValueError:
        raise ValueError(f"--month: expected YYYY-MM, got {month!r}") from None
    return start, period_end(start, "month")


def fmt_value(kdef: KpiDef, value: float | None) -> str:
    """A KPI value as the report shows it, in its unit (11.6%, 2.35일, 14분, 1,234건)."""
    return format_number(value, kdef.unit)


def _industry(kdef: KpiDef) -> str:
    ind = kdef.industry_avg
    if ind is None:
        return "—"
    if isinstance(ind, tuple):
        lo, hi = (format_number(x, kdef.unit, trim=True) for x in ind)
        return f"{lo}–{hi}"
    return format_number(float(ind), kdef.unit, trim=True)


def _target(kdef: KpiDef) -> str:
    """The target in the value's unit: "3% 미만", "98% 이상", "직전 기간 대비 40% 감소"."""
    t = kdef.target
    if t is None:
        return "—"
    op = t.op or (">=" if kdef.direction == "higher" else "<=")
    return format_target(op, t.threshold, t.change_vs_previous, kdef.unit) or "—"


def _first_month(engine: KpiEngine, tz: str, month_start: date) -> date:
    """The first month with orders, at most MAX_TREND_MONTHS back from the report's month."""
    earliest = month_start
    for _ in range(MAX_TREND_MONTHS - 1):
        earliest = (earliest - timedelta(days=1)).replace(day=1)
    dates = engine.facts(tz).dated("orders", "created_at")["__d"].drop_nulls()
    first = dates.min() if len(dates) else None
    if not isinstance(first, date) or first > month_start:
        return month_start
    return max(first.replace(day=1), earliest)


@lru_cache(maxsize=1)
def korean_font() -> str | None:
    """A font matplotlib can draw Korean with on this machine (None: the charts are labelled in English)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in KOREAN_FONTS if n in names), None)


def _chart(series: dict[str, list[tuple[str, float | None]]], title: str, kdef: KpiDef) -> str:
    """A small trend chart as an embedded PNG data URI (rendered offline with matplotlib's Agg backend);
    in Korean when a Korean font is installed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = korean_font()
    if font:
        plt.rcParams["font.family"] = [font, "sans-serif"]
    fig, ax = plt.subplots(figsize=(4.2, 2.2), dpi=110)
    for label, points in series.items():
        xs = [p for p, v in points if v is not None]
        ys = [v * 100 if kdef.unit == "rate" else v for p, v in points if v is not None]
        ax.plot(xs, ys, marker="o", linewidth=1.5, label=label)
    t = kdef.target
    if t is not None and t.threshold is not None:
        ax.axhline(
            t.threshold * 100 if kdef.unit == "rate" else t.threshold,
            color="#c62828",
            linestyle="--",
            linewidth=1,
            label="목표" if font else "target",
        )
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    unit = unit_suffix(kdef.unit, "ko" if font else "en").strip()
    if unit:
        ax.set_ylabel(unit, fontsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def voc_shares(engine: KpiEngine, start: date, end: date, tz: str) -> tuple[list[dict[str, Any]], int, str]:
    """VOC category shares of the tickets created in the month (stored category, else the classifier)."""
    facts = engine.facts(tz)
    df = facts.dated("tickets", "created_at").filter(pl.col("__d").is_between(start, end))
    cats = df["voc_category"].to_list()
    texts = df["text"].to_list()
    source = "stored"
    missing = [i for i, c in enumerate(cats) if not c]
    if missing:
        try:
            from deliveryhub.chatbot.voc import classify_voc_many

            results = classify_voc_many([texts[i] or "" for i in missing])
            for i, r in zip(missing, results, strict=True):
                cats[i] = r.get("category") or "other"
            source = "stored+classified"
        except ImportError:
            for i in missing:
                cats[i] = "other"
            source = "stored (unclassified as other)"
    total = len(cats)
    rows = []
    for c in VOC_CATEGORIES:
        n = sum(1 for x in cats if x == c)
        rows.append(
            {
                "key": c,
                "ko": VOC_NAMES[c][0],
                "en": VOC_NAMES[c][1],
                "count": n,
                "share": n / total if total else None,
            }
        )
    return rows, total, source


def _examples(order_ids: list[Any]) -> list[str]:
    seen: list[str] = []
    for oid in order_ids:
        if oid and str(oid) not in seen:
            seen.append(str(oid))
        if len(seen) >= EXAMPLES:
            break
    return seen


def _exceptions(engine: KpiEngine, start: date, end: date, tz: str) -> dict[str, Any] | None:
    """Exceptions opened in the month by type (how many are still open, example orders) and by carrier
    (monitors feature), or None when the hub has no exception monitoring."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, datetime.min.time(), zone)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
    with engine.db.read() as conn:
        if not exceptions_recorded(conn):
            return None
        rows = exceptions_in(conn, lo, hi)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_type.setdefault(r["type"], []).append(r)
    types = sorted(by_type.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    carriers = Counter((r["carrier"], r["type"]) for r in rows if r["carrier"])
    return {
        "total": len(rows),
        "by_type": [
            {
                "type": key,
                "name": kl.label("exception", key),
                "name_en": kl.label("exception", key, "en"),
                "count": len(items),
                "open": sum(1 for r in items if r["status"] != "resolved"),
                "examples": _examples([r["order_id"] or r["subject"] for r in items]),
            }
            for key, items in types
        ],
        "by_carrier": [
            {
                "carrier": kl.label("carrier", carrier),
                "type": key,
                "name": kl.label("exception", key),
                "count": n,
            }
            for (carrier, key), n in carriers.most_common(10)
        ],
    }


def _late_deliveries(engine: KpiEngine, start: date, end: date, tz: str) -> dict[str, Any]:
    """Orders delivered in the month after their promised date: count, by carrier, examples (days late)."""
    df = (
        engine.facts(tz)
        .dated("delivered_orders", "delivered_at")
        .filter(pl.col("__d").is_between(start, end) & pl.col("promised_date").is_not_null())
        .filter(pl.col("delivered_date") > pl.col("promised_date"))
        .with_columns((pl.col("delivered_date") - pl.col("promised_date")).dt.total_days().alias("days_late"))
        .sort(["days_late", "order_id"], descending=[True, False])
    )
    by_carrier = []
    if df.height:
        grouped = df.group_by("carrier", maintain_order=True).agg(
            pl.len().alias("n"), pl.col("order_id"), pl.col("days_late")
        )
        for row in grouped.sort("n", descending=True, maintain_order=True).iter_rows(named=True):
            pairs = list(zip(row["order_id"], row["days_late"], strict=True))[:EXAMPLES]
            by_carrier.append(
                {
                    "carrier": kl.label("carrier", row["carrier"]) if row["carrier"] else "—",
                    "count": int(row["n"]),
                    "examples": [f"{oid} ({int(d)}일 늦음)" for oid, d in pairs],
                }
            )
    return {"count": df.height, "by_carrier": by_carrier}


def _evidence(key: str, late: dict[str, Any], exc: dict[str, Any] | None) -> str:
    """What in the month's orders stands behind an off-target KPI, in one Korean sentence ("" if nothing)."""
    if key in DELAY_KPIS and late["count"]:
        top = late["by_carrier"][0]
        return (
            f"이번 달 약속일보다 늦게 도착한 주문 {late['count']:,}건 중 {top['carrier']} {top['count']:,}건"
        )
    types = EXCEPTION_KPIS.get(key, ())
    if exc and types:
        found = [t for t in exc["by_type"] if t["type"] in types]
        if found:
            return "이번 달 예외: " + ", ".join(f"{t['name']} {t['count']:,}건" for t in found)
    return ""


def _delay_notices_sent(engine: KpiEngine, start: date, end: date, tz: str) -> int | None:
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, datetime.min.time(), zone)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
    with engine.db.read() as conn:
        return delay_notices_sent(conn, lo, hi)


def action_for(kdef: KpiDef, delay_notices_sent: int | None) -> dict[str, str]:
    """What to do about an off-target KPI, from what is actually the case: the catalog's advice to turn
    delay notices on is not given to a shop whose delay notices already went out this month."""
    if kdef.key == "delay_unnotified_rate" and delay_notices_sent:
        return {
            "action_ko": f"지연 안내는 이미 켜져 있어요(이번 달 {delay_notices_sent:,}건 발송). "
            "안내 없이 늦은 주문에서 지연 감지 시점, 채널 발송 실패, 수신 거부를 확인하세요.",
            "action_en": f"Delay notices are already on ({delay_notices_sent:,} sent this month). "
            "For the late orders nobody warned, check when the delay was detected, channel failures and "
            "opt-outs.",
        }
    return {
        "action_ko": kdef.action_ko or "원인 주문을 대시보드의 근거 주문에서 확인하세요.",
        "action_en": kdef.action_en or "Look at the orders behind the number on the dashboard.",
    }


def _note(cur: dict[str, Any]) -> str:
    """Why a value is not judged or what was left out of it (the KPI's sample fields)."""
    notes = []
    if cur.get("status") == "low_sample" and cur.get("min_sample"):
        notes.append(f"표본 {cur.get('sample') or 0:,}건(최소 {cur['min_sample']:,}건)")
    excluded = cur.get("excluded")
    if excluded and excluded.get("count"):
        notes.append(f"제외 {excluded['count']:,}건: {excluded.get('reason_ko') or ''}".rstrip(": "))
    return " · ".join(notes)


def _change(kdef: KpiDef, value: float | None, previous: float | None) -> str:
    """Against last month, in the value's unit: "전월 대비 1.2%p 악화" ("" without both values)."""
    if value is None or previous is None or value == previous:
        return ""
    better = (value > previous) == (kdef.direction == "higher")
    diff = abs(value - previous)
    amount = f"{diff * 100:.1f}%p" if kdef.unit == "rate" else format_number(diff, kdef.unit)
    return f"전월 대비 {amount} {'개선' if better else '악화'}"


def build_report(engine: KpiEngine, month: str, tz: str) -> dict[str, Any]:
    """Everything the monthly report shows, as data."""
    start, end = parse_month(month)
    prev_start = (start - timedelta(days=1)).replace(day=1)
    prev_end = start - timedelta(days=1)
    keys = [k for k in REPORT_KPIS if k in engine.catalog] + [
        k for k, d in engine.catalog.items() if k not in REPORT_KPIS and d.kind == "manual"
    ]
    this = engine.compute(start, end, "month", None, tz, keys)["kpis"]
    last = engine.compute(prev_start, prev_end, "month", None, tz, keys)["kpis"]
    trend_start = _first_month(engine, tz, start)
    trend_keys = [k for k in TREND_KPIS if k in engine.catalog]
    trend = engine.compute(trend_start, end, "month", None, tz, trend_keys)["kpis"]
    defs = {k.key: k for k in engine.with_overrides(engine.catalog[k] for k in keys)}
    exceptions = _exceptions(engine, start, end, tz)
    late = _late_deliveries(engine, start, end, tz)
    delay_sent = _delay_notices_sent(engine, start, end, tz)
    rows, actions = [], []
    for key in keys:
        kdef, cur, prev = defs[key], this[key], last[key]
        rows.append(
            {
                "key": key,
                "name_ko": kdef.name_ko,
                "name_en": kdef.name_en,
                "target": _target(kdef),
                "this": fmt_value(kdef, cur["value"]),
                "last": fmt_value(kdef, prev["value"]),
                "industry": _industry(kdef),
                "status": cur["status"],
                "status_name": STATUS_NAMES.get(cur["status"], cur["status"]),
                "note": _note(cur),
                "reason": cur.get("reason") or "",
            }
        )
        if cur["status"] in ("breach", "warning"):
            actions.append(
                {
                    "name_ko": kdef.name_ko,
                    "name_en": kdef.name_en,
                    "status": cur["status"],
                    "value": fmt_value(kdef, cur["value"]),
                    "target": _target(kdef),
                    "change": _change(kdef, cur["value"], prev["value"]),
                    "evidence": _evidence(key, late, exceptions),
                    **action_for(kdef, delay_sent),
                }
            )
    charts = []
    for key in trend_keys:
        kdef = defs.get(key) or engine.catalog[key]
        name = kdef.name_ko if korean_font() else kdef.name_en
        points = [(s["period"][:7], s["value"]) for s in trend[key]["series"] if s.get("group") is None]
        if any(v is not None for _p, v in points):
            charts.append(
                {
                    "key": key,
                    "title": f"{kdef.name_ko} / {kdef.name_en}",
                    "src": _chart({name: points}, name, kdef),
                }
            )
    voc, voc_total, voc_source = voc_shares(engine, start, end, tz)
    by_key = {r["key"]: r for r in voc}
    reference = []
    for cats, (lo, hi), (ko, en) in VOC_REFERENCE:
        n = sum(by_key[c]["count"] for c in cats)
        share = n / voc_total if voc_total else None
        reference.append(
            {
                "ko": ko,
                "en": en,
                "share": share,
                "lo": lo,
                "hi": hi,
                "within": None if share is None else lo <= share <= hi,
            }
        )
    facts = engine.facts(tz)
    orders_m = facts.dated("orders", "created_at").filter(pl.col("__d").is_between(start, end)).height
    delivered_m = (
        facts.dated("delivered_orders", "delivered_at").filter(pl.col("__d").is_between(start, end)).height
    )
    breached = [r for r in rows if r["status"] == "breach"]
    return {
        "month": month,
        "month_text": format_month(start),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "start_text": format_date(start),
        "end_text": format_date(end),
        "tz": tz,
        "previous": f"{prev_start.year}-{prev_start.month:02d}",
        "previous_text": format_month(prev_start),
        "trend_from_text": format_month(trend_start),
        "trend_months": (end.year - trend_start.year) * 12 + end.month - trend_start.month + 1,
        "late": late,
        "rows": rows,
        "actions": actions,
        "charts": charts,
        "voc": voc,
        "voc_total": voc_total,
        "voc_source": voc_source,
        "voc_source_text": VOC_SOURCES.get(voc_source, voc_source),
        "voc_reference": reference,
        "exceptions": exceptions,
        "summary": {
            "orders": orders_m,
            "delivered": delivered_m,
            "breached": len(breached),
            "warnings": sum(1 for r in rows if r["status"] == "warning"),
            "on_target": sum(1 for r in rows if r["status"] == "ok"),
            "tickets": voc_total,
        },
    }


def render_html(data: dict[str, Any]) -> str:
    """The report as a self-contained HTML page (charts embedded)."""
    return env.get_template("report_monthly.html").render(r=data)


def write_report(engine: KpiEngine, month: str, out: Path, tz: str) -> Path:
    """Write the report to `out` (.pdf via WeasyPrint, or .html)."""
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".html", ".htm"):
        raise ValueError("--out: the file name must end in .pdf or .html")
    data = build_report(engine, month, tz)
    html = render_html(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".pdf":
        from weasyprint import HTML

        HTML(string=html, base_url=str(HERE)).write_pdf(str(out))
    else:
        out.write_text(html, encoding="utf-8")
    return out


__all__ = ["build_report", "evaluate_status", "render_html", "write_report"]
