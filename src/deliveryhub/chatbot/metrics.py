"""CS metrics of a period, from the desk and chat tables (pure queries): first response time, resolution
time, escalation rate, VOC category shares; the automation and VOC response rates are the KPI catalog's
(cs_automation_rate, voc_response_rate), so the desk header and the dashboard say the same."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence.columns import columns
from deliveryhub.chatbot import tables as ct

# Industry reference shares of CS contacts (operations study, CS.md).
VOC_REFERENCE = {
    "delivery_delay": (0.35, 0.58),
    "wrong_item+damaged": (0.10, 0.14),
    "status_notice": (0.17, 0.25),
}


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _ids_having(
    conn: Connection, id_col: sa.ColumnElement[Any], cond: sa.ColumnElement[bool], ids: list[Any]
) -> set[Any]:
    """Those of `ids` that have a row of `id_col`'s table matching `cond` (no query when `ids` is empty)."""
    if not ids:
        return set()
    return set(conn.execute(sa.select(id_col).where(cond, id_col.in_(ids)).distinct()).scalars())


# The desk header's rates → the catalog KPIs that define them (one definition, computed by the KPI engine).
KPI_RATES = {"automation_rate": "cs_automation_rate", "voc_response_rate": "voc_response_rate"}


def kpi_rates(kpis: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Any]:
    """The header's rates from a KPI result (`/v1/kpis` "kpis" of the same period), with each KPI's
    status, sample and reason under "kpis" (status low_sample: too few tickets to judge, "표본 부족")."""
    out: dict[str, Any] = {"kpis": {}}
    for field, key in KPI_RATES.items():
        entry = (kpis or {}).get(key)
        out[field] = entry.get("value") if entry else None
        out["kpis"][key] = (
            {k: v for k, v in entry.items() if k != "series"}
            if entry
            else {"value": None, "status": "no_data", "reason": "the KPI feature is not enabled"}
        )
    return out


def summary(
    conn: Connection, start: datetime, end: datetime, kpis: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """Metrics of contacts created in [start, end); `kpis`: the KPI engine's result for the same days (the
    automation and VOC response rates). Values are None (with a reason) when nothing counts."""
    tk = ct.tickets
    rows = conn.execute(
        sa.select(
            *columns(
                tk,
                "id",
                "channel",
                "created_at",
                "first_response_at",
                "resolved_at",
                "voc_category",
                "session_id",
            )
        ).where(tk.c.created_at >= start, tk.c.created_at < end)
    ).all()
    first = [(r.first_response_at - r.created_at).total_seconds() / 60 for r in rows if r.first_response_at]
    resolution = [(r.resolved_at - r.created_at).total_seconds() / 3600 for r in rows if r.resolved_at]
    cs = ct.chat_sessions
    sessions = conn.execute(
        sa.select(cs.c.session_id, cs.c.state, cs.c.handed_off_at, cs.c.bot_answers, cs.c.voc_category).where(
            cs.c.created_at >= start, cs.c.created_at < end
        )
    ).all()
    # A conversation counts once customers wrote in it (sessions opened and abandoned are not contacts).
    spoke = _ids_having(
        conn,
        ct.chat_messages.c.session_id,
        ct.chat_messages.c.role == "customer",
        [s.session_id for s in sessions],
    )
    chats = [s for s in sessions if s.session_id in spoke]
    escalated = [s for s in chats if s.handed_off_at is not None]
    voc: dict[str, int] = {}
    for r in rows:
        if r.voc_category and r.channel != "chat":
            voc[r.voc_category] = voc.get(r.voc_category, 0) + 1
    for s in chats:
        if s.voc_category:
            voc[s.voc_category] = voc.get(s.voc_category, 0) + 1
    voc_total = sum(voc.values())
    return {
        "tickets": len(rows),
        "chats": len(chats),
        "first_response_minutes": {
            "mean": sum(first) / len(first) if first else None,
            "p50": _pct(first, 0.5),
            "p90": _pct(first, 0.9),
            "n": len(first),
            **({} if first else {"reason": "no ticket got a reply in the period"}),
        },
        "resolution_hours": {
            "mean": sum(resolution) / len(resolution) if resolution else None,
            "p50": _pct(resolution, 0.5),
            "n": len(resolution),
            **({} if resolution else {"reason": "no ticket was resolved in the period"}),
        },
        **kpi_rates(kpis),
        "escalation_rate": len(escalated) / len(chats) if chats else None,
        "voc": {
            "counts": voc,
            "shares": {k: v / voc_total for k, v in voc.items()} if voc_total else {},
            "reference": {k: list(v) for k, v in VOC_REFERENCE.items()},
        },
    }
