"""The monthly KPI/VOC report: summary, KPI table against targets and industry averages, trend charts
(matplotlib, offline), VOC category shares against the study's reference shares, top exceptions, and the
improvement actions implied by breached KPIs. HTML, or PDF through WeasyPrint."""

from __future__ import annotations

import base64
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from deliveryhub.kernel import labels as kl
from deliveryhub.kpi.catalog import KpiDef
from deliveryhub.kpi.engine import KpiEngine
from deliveryhub.kpi.measures import evaluate_status
from deliveryhub.kpi.peer_queries import exceptions_opened, exceptions_recorded
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
TREND_KPIS = ("delivery_delay_rate", "order_processing_hours", "cs_first_response_minutes", "csat")
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
    """A KPI value as the report shows it (rates in %)."""
    if value is None:
        return "—"
    if kdef.unit == "rate":
        return f"{value * 100:.2f}%"
    if kdef.unit == "count":
        return f"{value:,.0f}"
    if kdef.unit == "currency":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _industry(kdef: KpiDef) -> str:
    ind = kdef.industry_avg
    if ind is None:
        return "—"
    if isinstance(ind, tuple):
        if kdef.unit == "rate":
            return f"{ind[0] * 100:.0f}–{ind[1] * 100:.0f}%"
        return f"{ind[0]:g}–{ind[1]:g}"
    return fmt_value(kdef, float(ind))


def _target(kdef: KpiDef) -> str:
    t = kdef.target
    if t is None:
        return "—"
    if t.change_vs_previous is not None:
        return f"{t.change_vs_previous * 100:+.0f}% (전월 대비 / vs previous)"
    op = t.op or (">=" if kdef.direction == "higher" else "<=")
    op = {"<=": "≤", ">=": "≥"}.get(op, op)
    return f"{op} {fmt_value(kdef, t.threshold)}" if t.threshold is not None else "—"


def _chart(series: dict[str, list[tuple[str, float | None]]], title: str, kdef: KpiDef) -> str:
    """A small trend chart as an embedded PNG data URI (rendered offline with matplotlib's Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
            label="target",
        )
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    if kdef.unit == "rate":
        ax.set_ylabel("%", fontsize=7)
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


def _exceptions(engine: KpiEngine, start: date, end: date, tz: str) -> dict[str, Any] | None:
    """Exceptions opened in the month by type and carrier (monitors feature), or None if absent."""
    zone = ZoneInfo(tz)
    lo = datetime.combine(start, datetime.min.time(), zone)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone)
    with engine.db.read() as conn:
        if not exceptions_recorded(conn):
            return None
        opened = exceptions_opened(conn, lo, hi)
    return {
        "by_type": [
            {"type": r[0], "name": kl.label("exception", r[0]), "count": int(r[1])} for r in opened["by_type"]
        ][:10],
        "by_carrier": [
            {"carrier": r[0], "type": r[1], "name": kl.label("exception", r[1]), "count": int(r[2])}
            for r in opened["by_carrier"]
        ][:10],
    }


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
    trend_start = start
    for _ in range(5):
        trend_start = (trend_start - timedelta(days=1)).replace(day=1)
    trend = engine.compute(trend_start, end, "month", None, tz, list(TREND_KPIS))["kpis"]
    defs = {k.key: k for k in engine.with_overrides(engine.catalog[k] for k in keys)}
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
                "reason": cur.get("reason") or "",
            }
        )
        if cur["status"] in ("breach", "warning") and (kdef.action_ko or kdef.action_en):
            actions.append(
                {
                    "name_ko": kdef.name_ko,
                    "name_en": kdef.name_en,
                    "status": cur["status"],
                    "value": fmt_value(kdef, cur["value"]),
                    "target": _target(kdef),
                    "action_ko": kdef.action_ko,
                    "action_en": kdef.action_en,
                }
            )
    charts = []
    for key in TREND_KPIS:
        kdef = defs.get(key) or engine.catalog[key]
        points = [(s["period"], s["value"]) for s in trend[key]["series"]]
        if points:
            charts.append(
                {
                    "key": key,
                    "title": f"{kdef.name_ko} / {kdef.name_en}",
                    "src": _chart({kdef.name_en: points}, kdef.name_en, kdef),
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
        "start": start.isoformat(),
        "end": end.isoformat(),
        "tz": tz,
        "previous": f"{prev_start.year}-{prev_start.month:02d}",
        "rows": rows,
        "actions": actions,
        "charts": charts,
        "voc": voc,
        "voc_total": voc_total,
        "voc_source": voc_source,
        "voc_reference": reference,
        "exceptions": _exceptions(engine, start, end, tz),
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
