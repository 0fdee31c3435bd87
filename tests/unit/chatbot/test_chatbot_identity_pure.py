"""Pure parts of chat identity and uploads: lock backoff, magic-number sniffing, polyglot refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deliveryhub.chatbot import identity, uploads
from deliveryhub.pii import dlp


def test_each_further_lock_lasts_twice_as_long_up_to_a_day() -> None:
    limits = identity.Limits(lock_minutes=30)
    assert [identity.lock_length(limits, n) for n in (1, 2, 3)] == [
        timedelta(minutes=30),
        timedelta(minutes=60),
        timedelta(minutes=120),
    ]
    assert identity.lock_length(limits, 50) == identity.MAX_LOCK


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (b"\xff\xd8\xff\xe0" + b"\x00" * 40, "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40, "image/png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "image/webp"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40, "image/heic"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, None),  # a video is not a photo
        (b"<html>" + b"\x00" * 40, None),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None),  # PNG signature without its header chunk
    ],
)
def test_sniff_goes_by_the_bytes(data: bytes, ctype: str | None) -> None:
    assert uploads.sniff(data) == ctype


@pytest.mark.parametrize(
    "marker", [b"<script>", b"<SVG onload=x>", b"<?php system($_GET[c]); ?>", b"<!DOCTYPE html>"]
)
def test_markup_inside_an_image_is_refused(marker: bytes) -> None:
    with pytest.raises(uploads.UploadRefused) as err:
        uploads.check_image(b"\xff\xd8\xff\xe0" + b"\x00" * 100 + marker)
    assert err.value.reason == "markup" and err.value.field == "file"


@pytest.mark.parametrize(
    "phone", ["010-1234-5678", "01012345678", "+82 10-1234-5678", "02-123-5678", "031 1234 5678"]
)
def test_the_masked_phone_never_shows_the_last_four_digits(phone: str) -> None:
    masked = dlp.mask_phone(phone) or ""
    assert "5678" not in masked and masked.endswith("****")
    assert "5678" not in (dlp.mask_text(f"연락처 {phone} 입니다") or "")
