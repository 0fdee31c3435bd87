"""Chat photo uploads as an attacker would try them: a non-image, an HTML page named .jpg, a JPEG/HTML
polyglot, an oversized or empty file, an upload into someone else's (unverified) session — all refused
with a clear 4xx. An accepted photo is not on disk in clear, only staff with tickets:read can read it
(audited), and it is gone after erasure of the customer and after retention."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import tables as ct
from deliveryhub.chatbot.uploads import UploadStore, purge_expired
from deliveryhub.security.apikeys import create_api_key
from deliveryhub.security.audit import audit_log_of
from dh_testkit import drain, event

OID = "ORD-2026-000951"
LAST4 = "3141"


def png(width: int = 4, height: int = 4) -> bytes:
    """A real, small PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([200, 30, 30] * width) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def seed(hub: Any) -> None:
    hub.ingest.ingest(
        [
            event(
                "u1",
                "order.created",
                OID,
                "2026-11-28T10:00:00+09:00",
                {
                    "customer": {"name": "오사진", "phone": f"010-2718-{LAST4}"},
                    "address": {"zip": "06236", "line1": "서울 강남구 테헤란로 152"},
                    "items": [{"sku": "SKU-UP-1", "qty": 1, "price": 15000}],
                    "total": 15000,
                },
            )
        ]
    )
    drain(hub)


def verified_session(client: Any) -> str:
    sid = str(client.post("/v1/chat/sessions", json={}).json()["session_id"])
    client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": f"{OID} 배송 어디예요?"})
    reply = client.post(f"/v1/chat/sessions/{sid}/messages", json={"text": LAST4}).json()["reply"]
    assert "뒷자리" not in (reply or "")
    return sid


def upload(client: Any, sid: str, data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg") -> Any:
    return client.post(f"/v1/chat/sessions/{sid}/attachments", files={"file": (name, data, ctype)})


def test_non_images_and_polyglots_are_refused_with_a_clear_error(hub: Any, client: Any) -> None:
    seed(hub)
    sid = verified_session(client)
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>" * 2
    cases = [
        (html, 415, "unsupported_media_type"),  # a page named .jpg with an image content type
        (b"GIF89a" + b"\x00" * 64, 415, "unsupported_media_type"),  # not one of the accepted types
        (b"%PDF-1.7\n" + b"x" * 64, 415, "unsupported_media_type"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"<script>alert(1)</script>", 422, "invalid_image"),  # polyglot
        (png() + b"<html><script src=//evil></script>", 422, "invalid_image"),  # trailing page
        (b"\xff\xd8", 422, "invalid_field"),  # truncated
        (b"\xff\xd8\xff\xe0" + b"\x00" * (5 * 1024 * 1024), 413, "body_too_large"),
    ]
    for data, status, code in cases:
        r = upload(client, sid, data)
        assert r.status_code == status, (code, r.status_code, r.text)
        assert r.json()["error"]["code"] == code
        # (an oversized body may already be stopped by the app's request-size guard, which names no field)
        assert r.json()["error"].get("field", "file") == "file"
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ct.chat_attachments)).scalar() == 0
    assert not list((Path(hub.settings.data_dir) / "chat_uploads").rglob("*.bin"))


def test_unverified_or_unknown_sessions_cannot_upload(hub: Any, client: Any) -> None:
    seed(hub)
    sid = str(client.post("/v1/chat/sessions", json={}).json()["session_id"])
    r = upload(client, sid, png())
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_verified"
    assert upload(client, "no-such-session", png()).status_code == 404


def test_a_photo_is_encrypted_on_disk_readable_by_staff_only_and_erased_with_the_customer(
    hub: Any, client: Any
) -> None:
    seed(hub)
    sid = verified_session(client)
    photo = png(16, 16)
    r = upload(client, sid, photo, name="damage.png", ctype="application/octet-stream")  # type is sniffed
    assert r.status_code == 200, r.text
    aid = r.json()["name"]
    assert "사진 잘 받았어요" in r.json()["reply"]
    # On disk: one file, not the photo's bytes, no image magic, no extension that says what it is.
    files = list((Path(hub.settings.data_dir) / "chat_uploads").rglob("*"))
    stored = [f for f in files if f.is_file()]
    assert len(stored) == 1 and stored[0].suffix == ".bin"
    blob = stored[0].read_bytes()
    assert photo not in blob and b"PNG" not in blob and b"IHDR" not in blob
    assert stored[0].stat().st_mode & 0o077 == 0  # not readable by other users
    # Anonymous and roles without tickets:read are refused; an agent reads it, and the read is audited.
    url = f"/v1/attachments/{aid}"
    assert client.get(url).status_code == 401
    analyst = create_api_key(hub.db, "analyst", "analyst")
    assert client.get(url, headers={"Authorization": f"Bearer {analyst}"}).status_code == 403
    agent = create_api_key(hub.db, "agent", "cs_agent")
    got = client.get(url, headers={"Authorization": f"Bearer {agent}"})
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    assert [e for e in audit_log_of(hub).entries(limit=20) if e["action"] == "chat.attachment.read"]
    for bad in ("../../hub.db", "x" * 32, aid.upper()):
        assert client.get(
            f"/v1/attachments/{bad}", headers={"Authorization": f"Bearer {agent}"}
        ).status_code in (
            404,
            422,
        )
    # Erasure of the customer deletes the photo (row and file).
    with hub.db.read() as conn:
        cid = conn.execute(sa.select(t.orders.c.customer_id).where(t.orders.c.order_id == OID)).scalar()
    hub.security.erase_customer(cid, "system:test", "customer asked for erasure")
    assert client.get(url, headers={"Authorization": f"Bearer {agent}"}).status_code == 404
    assert not stored[0].exists()


def test_retention_deletes_old_photos(hub: Any, client: Any) -> None:
    seed(hub)
    sid = verified_session(client)
    aid = upload(client, sid, png()).json()["name"]
    store = UploadStore(hub)
    assert store.path(aid).exists()
    now = hub.clock.now()
    assert purge_expired(hub, now) == 0  # a fresh photo stays
    assert purge_expired(hub, now + timedelta(days=400)) == 1
    assert not store.path(aid).exists() and store.read(aid) is None


def test_photos_left_in_clear_by_earlier_versions_are_encrypted_or_deleted(hub: Any, client: Any) -> None:
    seed(hub)
    sid = verified_session(client)
    legacy = Path(hub.settings.data_dir) / "chat_uploads" / sid
    legacy.mkdir(parents=True)
    photo = png(8, 8)
    (legacy / "a1b2c3.png").write_bytes(photo)
    (legacy / "d4e5f6.jpg").write_bytes(b"<html><script>alert(1)</script></html>")
    (Path(hub.settings.data_dir) / "chat_uploads" / "gone-session").mkdir()
    (Path(hub.settings.data_dir) / "chat_uploads" / "gone-session" / "x.jpg").write_bytes(photo)
    assert purge_expired(hub, hub.clock.now()) == 0
    assert not legacy.exists()
    files = [f for f in (Path(hub.settings.data_dir) / "chat_uploads").rglob("*") if f.is_file()]
    assert len(files) == 1 and photo not in files[0].read_bytes()
    with hub.db.read() as conn:
        row = conn.execute(sa.select(ct.chat_attachments)).one()
    assert row.session_id == sid and UploadStore(hub).read(row.id)[1] == photo  # type: ignore[index]
