"""Chat photo uploads (damage claims): the real type is sniffed from the bytes (JPEG, PNG, WebP, HEIC;
anything else, markup or script inside included, is refused), size-limited, encrypted at rest under a
per-file key, readable only by staff with tickets:read through an audited route, and deleted by retention
and by erasure of the customer (`ChatFiles`, the CustomerFiles port). The HTTP routes are in
entrypoints/api/routers/chat.py."""

from __future__ import annotations

import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Connection

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.chatbot import identity
from deliveryhub.chatbot import tables as ct
from deliveryhub.pii.cipher import KeyError_, open_, seal
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)

MAX_UPLOAD = 5 * 1024 * 1024
MIN_UPLOAD = 32  # nothing shorter is a photo
MAX_PER_SESSION = 10
EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# Markup or script anywhere in the bytes makes a polyglot a browser could run as a page: refused.
MARKUP = re.compile(
    rb"<\s*(?:script|html|body|iframe|svg|object|embed|meta|!doctype|\?php|\?xml)|javascript:", re.IGNORECASE
)
# Why an upload is refused, and what the customer is told (the router maps the reason to a status).
REFUSALS = {
    "too_large": ("file", "file: larger than 5 MB (5MB 이하 사진만 올릴 수 있어요)"),
    "empty": ("file", "file: empty or truncated image (빈 파일이에요)"),
    "not_image": (
        "file",
        "file: not a photo; send a JPEG, PNG, WebP or HEIC image "
        "(사진 파일만 올릴 수 있어요: JPEG, PNG, WebP, HEIC)",
    ),
    "markup": (
        "file",
        "file: the image contains markup or script and was refused "
        "(이미지 안에 스크립트나 문서가 들어 있어 받을 수 없어요)",
    ),
    "no_session": ("session_id", "no such chat session"),
    "not_verified": (
        "session_id",
        "본인 확인(주문번호와 휴대폰 번호 뒷자리)을 마친 뒤에 사진을 올릴 수 있어요. / "
        "Please verify with your order number and phone digits before uploading.",
    ),
    "too_many": ("file", f"file: at most {MAX_PER_SESSION} photos per chat"),
}


class UploadRefused(ValueError):
    """A photo that is not accepted; `reason` is a key of REFUSALS, `field` the input it is about."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.field, message = REFUSALS[reason]
        super().__init__(message)


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are (by magic number), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and data[12:15] == b"VP8":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "image/heic"
    return None


def check_image(data: bytes) -> str:
    """The sniffed type of an acceptable photo; UploadRefused naming what is wrong otherwise."""
    if len(data) > MAX_UPLOAD:
        raise UploadRefused("too_large")
    if len(data) < MIN_UPLOAD:
        raise UploadRefused("empty")
    ctype = sniff(data)
    if ctype is None:
        raise UploadRefused("not_image")
    if MARKUP.search(data):
        raise UploadRefused("markup")
    return ctype


class UploadStore:
    """Encrypted photo files under <data_dir>/chat_uploads, their keys in chat_attachments."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.root = Path(core.settings.data_dir) / "chat_uploads"
        self._key = core.keyring.master.derive("deliveryhub chat uploads v1")

    def path(self, attachment_id: str) -> Path:
        """Where the encrypted bytes of an attachment live (the name says nothing about the content)."""
        return self.root / attachment_id[:2] / f"{attachment_id}.bin"

    def save(self, session: Any, data: bytes, ctype: str, at: datetime | None = None) -> str:
        """Encrypt and store one photo of a chat session; returns its id."""
        aid = uuid.uuid4().hex
        file_key = os.urandom(32)
        blob = seal(file_key, data, f"chat-upload:{aid}".encode())
        target = self.path(aid)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = target.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, target)
        with self.core.db.write(urgent=True) as conn:
            conn.execute(
                ct.chat_attachments.insert().values(
                    id=aid,
                    session_id=session.session_id,
                    order_id=session.order_id,
                    customer_id=session.customer_id,
                    created_at=at or self.core.clock.now(),
                    content_type=ctype,
                    size=len(data),
                    key_enc=seal(self._key, file_key, f"chat-upload-key:{aid}".encode()),
                )
            )
        return aid

    def read(self, attachment_id: str) -> tuple[Any, bytes] | None:
        """(row, clear bytes) of an attachment, or None when it is unknown or gone."""
        with self.core.db.read() as conn:
            row = conn.execute(
                sa.select(ct.chat_attachments).where(ct.chat_attachments.c.id == attachment_id)
            ).first()
        if row is None:
            return None
        try:
            file_key = open_(self._key, row.key_enc, f"chat-upload-key:{attachment_id}".encode())
            data = open_(
                file_key, self.path(attachment_id).read_bytes(), f"chat-upload:{attachment_id}".encode()
            )
        except (OSError, KeyError_):
            return None
        return row, data

    def delete(self, conn: Connection, where: Any) -> int:
        """Delete the attachments matching `where` (rows in `conn`'s transaction, then their files)."""
        ids = list(conn.execute(sa.select(ct.chat_attachments.c.id).where(where)).scalars())
        if not ids:
            return 0
        conn.execute(ct.chat_attachments.delete().where(ct.chat_attachments.c.id.in_(ids)))
        for aid in ids:
            try:
                self.path(aid).unlink(missing_ok=True)
            except OSError as exc:  # the key row is gone: the file cannot be read any more anyway
                log.warning("chat_upload_unlink_failed", error=str(exc)[:200])
        return len(ids)


def accept_photo(
    core: Core, store: UploadStore, session_id: str, data: bytes, ctype: str | None = None
) -> dict[str, Any]:
    """Store a customer's photo on a verified conversation and note it there and on the order's open
    ticket; returns the widget's answer. Raises UploadRefused. `ctype`: the type check_image found."""
    ctype = ctype or check_image(data)
    with core.db.read() as conn:
        s = conn.execute(
            sa.select(ct.chat_sessions).where(ct.chat_sessions.c.session_id == session_id)
        ).first()
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(ct.chat_attachments)
            .where(ct.chat_attachments.c.session_id == session_id)
        ).scalar()
    if s is None:
        raise UploadRefused("no_session")
    if not (s.verified and s.verified_by == "digits"):
        raise UploadRefused("not_verified")
    if int(count or 0) >= MAX_PER_SESSION:
        raise UploadRefused("too_many")
    aid = store.save(s, data, ctype)
    _note_photo(core, s, aid)
    return {
        "ok": True,
        "name": aid,
        "reply": "Thanks, we received the photo."
        if s.lang == "en"
        else "사진 잘 받았어요. 확인에 참고할게요.",
    }


def read_photo(
    core: Core, store: UploadStore, attachment_id: str, principal: object
) -> tuple[Any, bytes] | None:
    """(row, bytes) of a photo for a staff member, the read recorded in the audit log; None if unknown."""
    if not re.fullmatch(r"[0-9a-f]{32}", attachment_id):
        return None
    found = store.read(attachment_id)
    if found is None:
        return None
    row = found[0]
    core.audit.record(
        principal,
        "chat.attachment.read",
        f"attachment:{attachment_id}",
        {"order_id": row.order_id, "session_id": row.session_id[:12]},
    )
    return found


def _note_photo(core: Core, s: Any, aid: str) -> None:
    """The photo in the conversation and on the order's open ticket (a reference, never the bytes)."""
    now = core.clock.now()
    with core.db.write(urgent=True) as conn:
        conn.execute(
            ct.chat_messages.insert().values(
                session_id=s.session_id, at=now, role="customer", text=f"[photo:{aid}]"
            )
        )
        tid = s.ticket_id
        if tid is None and s.order_id:
            tid = conn.execute(
                sa.select(ct.tickets.c.id)
                .where(ct.tickets.c.order_id == s.order_id, ct.tickets.c.status != "solved")
                .order_by(ct.tickets.c.id.desc())
                .limit(1)
            ).scalar()
        if tid:
            conn.execute(
                ct.ticket_messages.insert().values(
                    ticket_id=tid, at=now, author_kind="customer", text=f"[photo:{aid}] /v1/attachments/{aid}"
                )
            )


def purge_customer(conn: Connection, core: Core, customer_id: str) -> int:
    """Erasure: delete every chat photo of a customer and of their orders (inside the erasure transaction)."""
    orders = sa.select(t.orders.c.order_id).where(t.orders.c.customer_id == customer_id)
    return UploadStore(core).delete(
        conn,
        sa.or_(ct.chat_attachments.c.customer_id == customer_id, ct.chat_attachments.c.order_id.in_(orders)),
    )


def encrypt_legacy(core: Core) -> int:
    """Photos stored in clear by earlier versions (<root>/<session>/<name>.<ext>): encrypted into the store
    when they are real images of a known session, deleted otherwise. Returns how many were handled."""
    store = UploadStore(core)
    if not store.root.is_dir():
        return 0
    done = 0
    for path in [p for p in store.root.glob("*/*") if p.is_file()]:
        if len(path.parent.name) == 2 and path.suffix in (".bin", ".tmp"):
            continue  # already the encrypted layout
        with core.db.read() as conn:
            session = conn.execute(
                sa.select(ct.chat_sessions).where(ct.chat_sessions.c.session_id == path.parent.name)
            ).first()
        data = path.read_bytes()
        ctype = sniff(data)
        if session is not None and ctype is not None and not MARKUP.search(data):
            at = datetime.fromtimestamp(path.stat().st_mtime, tz=core.clock.now().tzinfo)
            store.save(session, data, ctype, at=at)
        path.unlink(missing_ok=True)
        done += 1
    for folder in store.root.iterdir():
        if folder.is_dir() and len(folder.name) != 2 and not any(folder.iterdir()):
            folder.rmdir()
    return done


def purge_expired(core: Core, now: datetime) -> int:
    """Retention: delete chat photos older than the personal-data retention (pii_retention_days)."""
    from deliveryhub.security.retention import pii_retention_days

    encrypt_legacy(core)
    cutoff = now - timedelta(days=pii_retention_days(core))
    with core.db.write() as conn:
        return UploadStore(core).delete(conn, ct.chat_attachments.c.created_at < cutoff)


class ChatFiles:
    """CustomerFiles provider: chat photos go with the customer (erasure) and with retention, and the
    identity-check counters are pruned by the same daily run."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def purge_customer(self, conn: Connection, customer_id: str) -> int:
        """Delete a customer's photos inside the erasure transaction."""
        return purge_customer(conn, self.core, customer_id)

    def purge_expired(self, now: datetime) -> int:
        """Delete photos past retention (and forget stale identity-check counters)."""
        deleted = purge_expired(self.core, now)
        identity.prune(self.core, now)
        return deleted
