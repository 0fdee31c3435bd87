"""Anonymised export of events for analytics (ISMS-P 2.8.4): customer, order, shipment and tracking
identifiers become stable keyed pseudonyms, personal keys are dropped and free text is DLP-masked.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.pii import dlp, dlp_fields
from deliveryhub.security.audit import audit_log_of
from deliveryhub.service_layer.hub import Core

ID_KEYS = ("tracking_no", "tracking_number", "waybill", "waybill_no", "external_id")
SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("source", pa.string()),
        ("type", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("order_id", pa.string()),
        ("shipment_id", pa.string()),
        ("customer", pa.string()),
        ("manual", pa.bool_()),
        ("data", pa.string()),
    ]
)


def _clean(value: Any, core: Core, ids: dict[str, str], depth: int = 0, key: str = "") -> Any:
    if depth > 16:
        return None
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            name = str(k)
            if name.lower() in dlp.SENSITIVE_KEYS or name in ("customer", "address"):
                continue
            if name in ID_KEYS and v is not None:
                out[name] = "t" + core.keyring.blind.token("export-id", str(v), 16)
            else:
                out[_text(name, "", ids)] = _clean(v, core, ids, depth + 1, name)
        return out
    if isinstance(value, list):
        return [_clean(v, core, ids, depth + 1, key) for v in value]
    if isinstance(value, str):
        return _text(value, key, ids)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # a number under a phone/account/... key (rows stored before ingest masked unknown fields)
        return dlp_fields.mask_unknown(key, value)
    return value


def _text(value: str, key: str, ids: dict[str, str]) -> str:
    """Free text masked (field-name aware), and the row's own ids inside it replaced by their pseudonyms
    (a support text quoting "ORD-…" would otherwise link the record back to the order)."""
    masked = dlp_fields.mask_unknown(key, value)
    text = masked if isinstance(masked, str) else value
    for raw, pseudonym in ids.items():
        if raw in text:
            text = text.replace(raw, pseudonym)
    return text


def export_events(
    core: Core, out_dir: Path | str, anonymize: bool = True, chunk: int = 5000
) -> dict[str, Any]:
    """Write events.jsonl and events.parquet to `out_dir`; returns counts and paths (audited)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jsonl_path, parquet_path = out / "events.jsonl", out / "events.parquet"
    blind = core.keyring.blind

    def pseud(kind: str, value: str | None) -> str | None:
        return None if value is None else kind + blind.token("export-" + kind, value, 16)

    count, after = 0, 0
    with (
        jsonl_path.open("wb") as fh,
        pq.ParquetWriter(parquet_path, SCHEMA) as writer,
        core.db.read() as conn,
    ):
        while True:
            rows = conn.execute(
                sa.select(t.inbox).where(t.inbox.c.id > after).order_by(t.inbox.c.id).limit(chunk)
            ).all()
            if not rows:
                break
            after = rows[-1].id
            cids = {
                r.data.get("customer_id")
                for r in rows
                if isinstance(r.data, dict) and r.data.get("customer_id")
            }
            pseudonyms = (
                dict(
                    conn.execute(
                        sa.select(t.customers.c.customer_id, t.customers.c.pseudonym).where(
                            t.customers.c.customer_id.in_(list(cids))
                        )
                    ).all()
                )
                if cids
                else {}
            )
            batch: dict[str, list[Any]] = {name: [] for name in SCHEMA.names}
            for r in rows:
                data = dict(r.data) if isinstance(r.data, dict) else {}
                cid = data.pop("customer_id", None)
                if anonymize:
                    record = {
                        "event_id": pseud("e", f"{r.source}:{r.event_id}"),
                        "source": r.source,
                        "type": r.type,
                        "occurred_at": r.occurred_at,
                        "order_id": pseud("o", r.order_id),
                        "shipment_id": pseud("s", r.shipment_id),
                        "customer": pseudonyms.get(cid) if cid else None,
                        "manual": bool(r.manual),
                    }
                    own_ids = {
                        raw: str(record[name])
                        for raw, name in (
                            (r.order_id, "order_id"),
                            (r.shipment_id, "shipment_id"),
                            (r.event_id, "event_id"),
                        )
                        if raw and len(raw) >= 4
                    }
                    # longest first: a shipment id usually contains its order id
                    data = _clean(data, core, dict(sorted(own_ids.items(), key=lambda kv: -len(kv[0]))))
                else:
                    record = {
                        "event_id": r.event_id,
                        "source": r.source,
                        "type": r.type,
                        "occurred_at": r.occurred_at,
                        "order_id": r.order_id,
                        "shipment_id": r.shipment_id,
                        "customer": cid,
                        "manual": bool(r.manual),
                    }
                fh.write(
                    orjson.dumps(
                        {**record, "occurred_at": r.occurred_at.isoformat(), "data": data},
                        option=orjson.OPT_NON_STR_KEYS,
                    )
                    + b"\n"
                )
                for name in SCHEMA.names:
                    batch[name].append(
                        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
                        if name == "data"
                        else record[name]
                    )
                count += 1
            writer.write_table(pa.Table.from_pydict(batch, schema=SCHEMA))
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        who = "unknown"
    summary = {
        "events": count,
        "anonymized": anonymize,
        "jsonl": str(jsonl_path),
        "parquet": str(parquet_path),
    }
    audit_log_of(core).record(f"cli:{who}", "data.exported", str(out)[:200], summary)
    return summary
