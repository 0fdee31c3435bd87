"""Olist acceptance: KPIs from the imported sample match an independent plain-Python recomputation."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dh_testkit import make_hub

SP = ZoneInfo("America/Sao_Paulo")
RATE_TOL = 1e-6
MEAN_REL = 1e-6


def _rows(directory: Path, name: str) -> Iterator[dict[str, str]]:
    path = directory / f"olist_{name}_dataset.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(io.StringIO(fh.read()))


def _local(value: str) -> datetime | None:
    value = value.strip()
    return datetime.fromisoformat(value) if value else None


def _utc(naive: datetime) -> datetime:
    return naive.replace(tzinfo=SP).astimezone(UTC)


def _month(naive: datetime) -> str:
    return f"{naive.year}-{naive.month:02d}"


def expected_kpis(directory: Path) -> dict[str, dict[str, Any]]:
    """Each KPI overall and per month, straight from the CSV files (csv module, no hub code)."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seen: set[str] = set()
    for o in _rows(directory, "orders"):
        oid = o["order_id"].strip()
        if oid in seen:
            continue
        seen.add(oid)
        bought = _local(o["order_purchase_timestamp"])
        carrier = _local(o["order_delivered_carrier_date"])
        delivered = _local(o["order_delivered_customer_date"])
        promised = _local(o["order_estimated_delivery_date"])
        if delivered is not None:
            m = _month(delivered)
            if promised is not None and bought is not None:
                on_time = 1.0 if delivered.date() <= promised.date() else 0.0
                acc["on_time_delivery_rate"][m].append(on_time)
                acc["delivery_delay_rate"][m].append(1.0 - on_time)
            if bought is not None:
                acc["avg_delivery_days"][m].append((_utc(delivered) - _utc(bought)).total_seconds() / 86400)
            if carrier is not None:
                acc["avg_transit_days"][m].append((_utc(delivered) - _utc(carrier)).total_seconds() / 86400)
        if bought is not None and carrier is not None:
            acc["order_processing_hours"][_month(bought)].append(
                (_utc(carrier) - _utc(bought)).total_seconds() / 3600
            )
    reviewed: set[tuple[str, str]] = set()
    for r in _rows(directory, "order_reviews"):
        oid, rid = r["order_id"].strip(), r["review_id"].strip()
        if oid not in seen or (oid, rid) in reviewed:
            continue
        reviewed.add((oid, rid))
        score = r["review_score"].strip()
        at = _local(r["review_answer_timestamp"]) or _local(r["review_creation_date"])
        if not score.isdigit() or at is None or not 1 <= int(score) <= 5:
            continue
        acc["csat"][_month(at)].append(1.0 if int(score) >= 4 else 0.0)
        acc["csat_mean"][_month(at)].append(float(score))
    out: dict[str, dict[str, Any]] = {}
    for key, months in acc.items():
        every = [v for vals in months.values() for v in vals]
        out[key] = {
            "value": sum(every) / len(every),
            "months": {m: sum(v) / len(v) for m, v in months.items()},
        }
    return out


KEYS = (
    "on_time_delivery_rate",
    "delivery_delay_rate",
    "avg_delivery_days",
    "avg_transit_days",
    "order_processing_hours",
    "csat",
    "csat_mean",
)


def _close(key: str, got: float | None, want: float) -> bool:
    if got is None:
        return False
    if key.endswith("_rate") or key == "csat":
        return abs(got - want) <= RATE_TOL
    return abs(got - want) <= MEAN_REL * max(abs(want), 1e-12)


def _import(hub: Any, directory: Path) -> None:
    from deliveryhub.adapters.connectors.olist import iter_olist_events

    batch: list[dict[str, Any]] = []
    rejected = 0
    for ev in iter_olist_events(directory, "America/Sao_Paulo"):
        batch.append(ev)
        if len(batch) == 1000:
            rejected += sum(r.status == "rejected" for r in hub.ingest.ingest(batch))
            batch = []
    if batch:
        rejected += sum(r.status == "rejected" for r in hub.ingest.ingest(batch))
    assert rejected == 0


@pytest.fixture(scope="module")
def olist_hub(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[tuple[Any, Path]]:
    import base64
    import secrets

    tmp = tmp_path_factory.mktemp("olist")
    directory = shared_data / "olist" / "sample_8135_orders"
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    hub = make_hub(tmp, key)
    hub.test_master_key = key
    _import(hub, directory)
    yield hub, directory
    hub.close()


def _check(result: dict[str, Any], expected: dict[str, dict[str, Any]]) -> None:
    for key in KEYS:
        got = result["kpis"][key]
        want = expected[key]
        assert _close(key, got["value"], want["value"]), (key, got["value"], want["value"])
        series = {s["period"]: s["value"] for s in got["series"]}
        assert set(series) == set(want["months"]), (key, sorted(set(series) ^ set(want["months"])))
        for month, value in want["months"].items():
            assert _close(key, series[month], value), (key, month, series[month], value)


@pytest.mark.slow
def test_olist_kpis_match_independent_recomputation_cli(
    olist_hub: tuple[Any, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, directory = olist_hub
    from deliveryhub.entrypoints.kpi_cli import kpi_compute

    monkeypatch.setenv("DELIVERYHUB_MASTER_KEY", hub.test_master_key)
    monkeypatch.setenv("DELIVERYHUB_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.setenv("DELIVERYHUB_ENV", "test")
    kpi_compute(
        {"db_url": hub.settings.db_url, "bus_url": None},
        "2016-01-01",
        "2018-12-31",
        "month",
        None,
        "America/Sao_Paulo",
        "json",
        None,
    )
    result = json.loads(capsys.readouterr().out)
    assert result["from"] == "2016-01-01" and result["grain"] == "month" and result["by"] is None
    expected = expected_kpis(directory)
    # The sample is big enough for every month to matter: dozens of months, thousands of orders.
    assert len(expected["on_time_delivery_rate"]["months"]) > 12
    _check(result, expected)
    # Absent inputs are null with a reason, never 0.
    assert result["kpis"]["misdelivery_rate"]["value"] is None
    assert "claim.opened" in result["kpis"]["misdelivery_rate"]["reason"]


@pytest.mark.slow
def test_olist_delay_is_the_complement_and_by_carrier(olist_hub: tuple[Any, Path]) -> None:
    hub, _ = olist_hub
    from deliveryhub.kpi.engine import KpiEngine

    engine = KpiEngine(hub.db)
    res = engine.compute(
        date(2017, 1, 1),
        date(2017, 12, 31),
        "week",
        "carrier",
        "America/Sao_Paulo",
        ["on_time_delivery_rate", "delivery_delay_rate"],
    )
    on, late = res["kpis"]["on_time_delivery_rate"], res["kpis"]["delivery_delay_rate"]
    assert on["value"] is not None and abs(on["value"] + late["value"] - 1) < 1e-12
    assert {s["group"] for s in on["series"]} == {"olist"}
    assert all(s["period"].startswith("2017-W") or s["period"].startswith("2016-W") for s in on["series"])
