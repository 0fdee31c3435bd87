"""Helpers shared by every test layer (import with `from dh_testkit import ...`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PG_ADMIN_URL = os.environ.get("DELIVERYHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NATS_URL = os.environ.get("DELIVERYHUB_TEST_NATS", "nats://127.0.0.1:4222")
IN_CI = os.environ.get("CI", "").lower() == "true"


def port_open(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_hub(tmp_path: Path, master_key: str, db_url: str | None = None, **overrides: Any) -> Any:
    """A fully wired hub on a temporary SQLite file (or the given URL)."""
    from deliveryhub.bootstrap import bootstrap

    # DH_TEST_FEATURES=0 builds the bare backbone (to test it in isolation while features change).
    overrides.setdefault("features", os.environ.get("DH_TEST_FEATURES", "1") != "0")
    return bootstrap(
        db_url=db_url or f"sqlite:///{tmp_path}/hub.db",
        data_dir=tmp_path,
        master_key=master_key,
        env="test",
        **overrides,
    )


def drain(hub: Any, rounds: int = 50) -> int:
    """Relay the outbox and run every consumer until nothing is left (in-process bus, synchronously)."""
    import asyncio

    from deliveryhub.adapters.bus.inprocess import InProcessBus
    from deliveryhub.service_layer.relay import OutboxRelay

    bus = InProcessBus(hub.db)
    relay = OutboxRelay(hub.db, bus)
    total = 0
    for _ in range(rounds):
        moved = asyncio.run(relay.run_once())
        applied = sum(bus.poll_once(c) for c in hub.consumers)
        total += applied
        if moved == 0 and applied == 0:
            break
    relay.release()
    return total


def event(
    event_id: str,
    type_: str,
    order_id: str | None,
    at: str,
    data: dict[str, Any] | None = None,
    source: str = "oms",
    **extra: Any,
) -> dict[str, Any]:
    """A canonical event dict for tests."""
    out: dict[str, Any] = {
        "event_id": event_id,
        "source": source,
        "type": type_,
        "occurred_at": at,
        "order_id": order_id,
        "data": data or {},
    }
    out.update(extra)
    return out


@contextmanager
def serving(app: Any, port: int | None = None, **config: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a loopback port in a thread; yields its base URL once it answers."""
    import uvicorn

    port = port or free_port()
    config.setdefault("log_level", "warning")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Started is a condition, not a time budget: a loaded box only makes it come later.
    deadline = time.monotonic() + 120
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"uvicorn did not start on port {port}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def parcel_event(
    event_id: str,
    type_: str,
    order_id: str | None,
    at: str,
    data: dict[str, Any],
    shipment_id: str = "P1",
    source: str = "tms",
    **extra: Any,
) -> dict[str, Any]:
    """A canonical event about one parcel (its shipment_id set); the TMS is the default source."""
    return event(event_id, type_, order_id, at, data, source=source, shipment_id=shipment_id, **extra)


def waybill(
    event_id: str, order_id: str, at: str, carrier: str, tracking_no: str, shipment_id: str = "P1"
) -> dict[str, Any]:
    """A `shipment.waybill_created` event from the TMS."""
    data = {"carrier": carrier, "tracking_no": tracking_no}
    return parcel_event(event_id, "shipment.waybill_created", order_id, at, data, shipment_id)


def carrier_event(
    event_id: str,
    type_: str,
    order_id: str,
    at: str,
    carrier: str,
    data: dict[str, Any],
    shipment_id: str = "P1",
) -> dict[str, Any]:
    """A parcel event reported by the carrier itself (source `carrier:<code>`)."""
    return parcel_event(event_id, type_, order_id, at, data, shipment_id, source=f"carrier:{carrier}")


def tracking(
    event_id: str, order_id: str, at: str, carrier: str, shipment_id: str = "P1", **data: Any
) -> dict[str, Any]:
    """A `shipment.tracking` scan from the carrier; the keyword arguments are its data."""
    return carrier_event(event_id, "shipment.tracking", order_id, at, carrier, data, shipment_id)


def handed_over(
    event_id: str, order_id: str, at: str, carrier: str, shipment_id: str = "P1"
) -> dict[str, Any]:
    """A `shipment.handed_over` event from the carrier."""
    return carrier_event(
        event_id, "shipment.handed_over", order_id, at, carrier, {"carrier": carrier}, shipment_id
    )


def order_created(
    event_id: str,
    order_id: str,
    at: str,
    customer: dict[str, Any],
    address: dict[str, Any] | None = None,
    items: list[dict[str, Any]] | None = None,
    total: int | None = None,
    source: str = "oms",
    **data: Any,
) -> dict[str, Any]:
    """An `order.created` event: one item to a Seoul address unless given; the total sums the items."""
    address = address or {"zip": "06236", "line1": "서울 강남구 테헤란로 152"}
    items = items or [{"sku": "SKU-1", "qty": 1, "price": 30000}]
    if total is None:
        total = sum(int(i["qty"]) * int(i["price"]) for i in items)
    body = {"customer": customer, "address": address, "items": items, "total": total, **data}
    return event(event_id, "order.created", order_id, at, body, source=source)


# Chromium as the browser tests run it: headless, in a container, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def launch_chromium(playwright: Any) -> Any:
    """The system Chromium launched through a sync_playwright() handle."""
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


@contextmanager
def serve_hub(hub: Any, run_worker: bool = True, wrap: Any = None, **config: Any) -> Iterator[str]:
    """Serve the hub's API app (optionally wrapped in ASGI middleware); the hub is closed afterwards."""
    from deliveryhub.entrypoints.api.app import create_app

    try:
        app = create_app(hub, run_worker=run_worker)
        with serving(wrap(app) if wrap else app, **config) as base:
            yield base
    finally:
        hub.close()


def stop_process(proc: Any, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Ask a child process to stop with `sig`; kill it when it has not exited within `timeout` s."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class OpsAlertRecorder:
    """Stands in for `hub.ops_alerts`: records (kind, key) of every alert and, given `forward`, passes
    it on (so the real channel still runs)."""

    def __init__(self, forward: Any = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.forward = forward

    def notify_ops(self, alert: Any, **k: Any) -> Any:
        """Record the alert (and forward it)."""
        self.sent.append((alert.kind, alert.key))
        return None if self.forward is None else self.forward.notify_ops(alert, **k)

    def keys(self, kind: str) -> list[str]:
        """The keys of the alerts of one kind, in order."""
        return [k for kd, k in self.sent if kd == kind]


def rrn(front: str, gender: str, middle: str) -> str:
    """A checksum-valid 13-digit Korean resident registration number from its first 12 digits."""
    body = front + gender + middle
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    check = (11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11) % 10
    return body + str(check)


# Personal data hidden where no schema expects it (free text, a vendor's own fields, Korean keys); the values
# are distinctive, so finding any of HIDDEN_PII anywhere (a parsed event, the database) means a leak.
HIDDEN_PII = (
    "4827-1936",
    "48271936",
    "hidden.buyer@example.com",
    "hidden.buyer",
    "850315-2345678",
    "2345678",
    "555-7319",
    "유재석",
    "9876-5432",
    "김철수",
    "55556666",
    "이영희",
)


def order_data_with_hidden_pii() -> dict[str, Any]:
    """`order.created` data: a customer as the schema expects, and HIDDEN_PII where it does not."""
    return {
        "customer": {"name": "박서준", "phone": "010-2345-6789", "email": "seojun@example.com"},
        "address": {"zip": "06236", "line1": "서울특별시 강남구 테헤란로 152"},
        "items": [{"sku": "MUG", "qty": 1, "price": 12000, "engraving": "주민 850315-2345678"}],
        "total": 12000,
        "channel": "app",
        "memo": "문 앞에 놓아주세요 010-4827-1936",
        "gift_message": "생일 축하해, 답장은 hidden.buyer@example.com 으로",
        "note": "경비실 (02) 555-7319",
        "shopify": {"shipping_lines": [{"receiver_name": "유재석", "receiver_phone": "01098765432"}]},
        "수령인연락처": "010 9876 5432",
        "vendor": {"receiver": {"name": "김철수", "hp": "01055556666"}, "수령인": "이영희"},
    }
