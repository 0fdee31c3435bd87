"""A shop's onboarding checklist, computed from the shop's own hub: connectors connected, first events
seen, notice templates approved for its channels, a test notice sent, API keys and staff accounts made.

Each item says whether it is done and, in Korean and English (kernel/labels.py `shop_page`), what it
found and what to do next, with the exact command when there is one. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.kernel.labels import label
from deliveryhub.security.tables import audit_log, users

if TYPE_CHECKING:
    from deliveryhub.bootstrap import Hub

ITEMS = ("connectors", "first_events", "templates", "test_notice", "api_keys", "staff_users")
# The audit action POST /v1/shop/test-notice records when the notice went out.
TEST_NOTICE_SENT = "shop.test_notice_sent"
REAL_CHANNELS = ("kakao", "sms", "email")  # `console` writes a file: it reaches no customer
# The exact next step on the command line or over HTTP ({slug}: the shop's slug).
COMMANDS: dict[str, str] = {
    "connectors": "deliveryhub keys create --shop {slug} --name shop-system --role integration",
    "first_events": "POST /v1/events  (Authorization: Bearer dhk_…)",
    "templates": "DELIVERYHUB_KAKAO_URL, DELIVERYHUB_KAKAO_APPKEY, DELIVERYHUB_KAKAO_SENDER_KEY / "
    "DELIVERYHUB_SMTP_URL",
    "test_notice": 'POST /v1/shop/test-notice  {{"to": "you@example.com"}}',
    "api_keys": "deliveryhub keys create --shop {slug} --name shop-system --role integration",
    "staff_users": "deliveryhub users create --shop {slug} --email you@example.com --role admin",
}


@dataclass(frozen=True)
class Item:
    """One checklist item: done or not, and the facts found (numbers, times, names)."""

    key: str
    done: bool
    facts: dict[str, Any] = field(default_factory=dict)


def _connectors(hub: Hub, conn: sa.Connection) -> Item:
    sources = sorted(r[0] for r in conn.execute(sa.select(t.source_stats.c.source).distinct()))
    configured: list[str] = []
    if hub.connectors is not None:
        from deliveryhub.connectors.pushes import auth_status

        configured = sorted(code for code, how in auth_status(hub).items() if how != "refused")
        configured += sorted(code for code in hub.connectors.poller.carriers if code not in configured)
    return Item("connectors", bool(sources or configured), {"sources": sources, "configured": configured})


def _first_events(conn: sa.Connection) -> Item:
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.min(t.inbox.c.received_at), sa.func.max(t.inbox.c.received_at))
    ).one()
    n = int(row[0] or 0)
    return Item("first_events", n > 0, {"events": n, "first_received_at": row[1], "last_received_at": row[2]})


def _templates(hub: Hub) -> Item:
    feature = hub.notifications
    if feature is None:
        return Item("templates", False, {"rules": 0, "covered": 0, "channels": []})
    from deliveryhub.notifications.render import template_codes

    channels = sorted(c for c in feature.dispatcher.channels.customer if c in REAL_CHANNELS)
    codes = template_codes()
    rules = [r for r in feature.dispatcher.rules if r.audience == "customer"]
    covered = [r for r in rules if r.template in codes and set(r.channels) & set(channels)]
    missing = sorted(r.id for r in rules if r not in covered)
    facts = {"rules": len(rules), "covered": len(covered), "channels": channels, "missing": missing}
    return Item("templates", bool(rules) and len(covered) == len(rules), facts)


def _test_notice(conn: sa.Connection) -> Item:
    from deliveryhub.notifications.tables import notification_jobs as jobs

    audited = conn.execute(
        sa.select(audit_log.c.at, audit_log.c.details)
        .where(audit_log.c.action == TEST_NOTICE_SENT)
        .order_by(audit_log.c.seq.desc())
        .limit(1)
    ).first()
    sent = conn.execute(
        sa.select(jobs.c.sent_at, jobs.c.channel)
        .where(jobs.c.status.in_(("sent", "delivered")), jobs.c.audience == "customer")
        .order_by(jobs.c.sent_at.desc())
        .limit(1)
    ).first()
    candidates: list[tuple[datetime, str]] = []
    if audited is not None:
        import json

        details = json.loads(audited.details or "{}")
        candidates.append((audited.at, str(details.get("channel") or "console")))
    if sent is not None and sent.sent_at is not None:
        candidates.append((sent.sent_at, str(sent.channel or "")))
    if not candidates:
        return Item("test_notice", False, {"at": None, "channel": None})
    at, channel = max(candidates, key=lambda c: _aware(c[0]))
    return Item("test_notice", True, {"at": at, "channel": channel})


def _api_keys(conn: sa.Connection, now: datetime) -> Item:
    keys = t.api_keys
    rows = conn.execute(
        sa.select(keys.c.role, sa.func.count())
        .where(
            keys.c.revoked_at.is_(None),
            sa.or_(keys.c.expires_at.is_(None), keys.c.expires_at > now),
            keys.c.role != "platform",
        )
        .group_by(keys.c.role)
    ).all()
    by_role = {str(r[0]): int(r[1]) for r in rows}
    return Item("api_keys", bool(by_role), {"keys": sum(by_role.values()), "by_role": by_role})


def _staff_users(conn: sa.Connection) -> Item:
    rows = conn.execute(
        sa.select(users.c.role, sa.func.count())
        .where(users.c.disabled_at.is_(None), users.c.role != "platform")
        .group_by(users.c.role)
    ).all()
    by_role = {str(r[0]): int(r[1]) for r in rows}
    return Item("staff_users", bool(by_role), {"users": sum(by_role.values()), "by_role": by_role})


def checklist(hub: Hub) -> list[Item]:
    """Every onboarding item of the hub's shop, in the order a new shop does them."""
    now = hub.clock.now()
    with hub.db.read() as conn:
        items = {
            "connectors": _connectors(hub, conn),
            "first_events": _first_events(conn),
            "test_notice": _test_notice(conn),
            "api_keys": _api_keys(conn, now),
            "staff_users": _staff_users(conn),
        }
    items["templates"] = _templates(hub)
    return [items[k] for k in ITEMS]


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _local(value: Any, tz: str) -> str:
    if not isinstance(value, datetime):
        return "-"
    return _aware(value).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _names(kind: str, codes: list[str], lang: str) -> str:
    return ", ".join(label(kind, c, lang) for c in codes) or label("shop_page", "none", lang)


def summary(item: Item, lang: str, tz: str) -> str:
    """What the item found, in `lang` (one sentence from the label table)."""
    f = item.facts
    args: dict[str, Any] = {}
    if item.key == "connectors":
        names = [label("source", s, lang) for s in f["sources"]]
        names += [label("carrier", c, lang) for c in f["configured"]]
        args["sources"] = ", ".join(dict.fromkeys(names)) or label("shop_page", "none", lang)
    elif item.key == "first_events":
        first, last = _local(f["first_received_at"], tz), _local(f["last_received_at"], tz)
        args = {"n": f["events"], "first": first, "last": last}
    elif item.key == "templates":
        channels = _names("notice_channel", f["channels"], lang)
        args = {"rules": f["rules"], "covered": f["covered"], "channels": channels}
    elif item.key == "test_notice":
        channel = label("notice_channel", f["channel"] or "console", lang)
        args = {"at": _local(f["at"], tz), "channel": channel}
    elif item.key in ("api_keys", "staff_users"):
        args = {"n": f["keys"] if item.key == "api_keys" else f["users"]}
    return label("shop_page", f"{item.key}_{'done' if item.done else 'todo'}", lang).format(**args)


def _jsonable(value: Any) -> Any:
    return _aware(value).isoformat() if isinstance(value, datetime) else value


def as_json(items: list[Item], slug: str, tz: str) -> dict[str, Any]:
    """GET /v1/shop/checklist: each item with done, facts, and Korean and English found/next texts."""
    out = []
    for item in items:
        command = COMMANDS.get(item.key)
        out.append(
            {
                "key": item.key,
                "done": item.done,
                "title": {lang: label("shop_page", item.key, lang) for lang in ("ko", "en")},
                "summary": {lang: summary(item, lang, tz) for lang in ("ko", "en")},
                "next": None
                if item.done
                else {lang: label("shop_page", f"{item.key}_next", lang) for lang in ("ko", "en")},
                "command": None if item.done or command is None else command.format(slug=slug),
                "facts": {k: _jsonable(v) for k, v in item.facts.items()},
            }
        )
    done = sum(1 for i in items if i.done)
    return {"shop": slug, "done": done, "total": len(items), "complete": done == len(items), "items": out}
