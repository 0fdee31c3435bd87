"""When and how a message may go out: advertising vs informational, quiet hours, consent, channels.

정보통신망법 제50조: advertising (a coupon, a recommendation) needs prior consent, starts with "(광고)"
and is never sent 21:00–08:00 (Asia/Seoul) — it is deferred to 08:00. Informational notices (order,
payment, delivery) are not advertising; they honour the customer's own quiet hours if set.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

AD_NIGHT = (time(21, 0), time(8, 0))
AD_TZ = "Asia/Seoul"
# 알림톡 is for informational messages only (Kakao policy); advertising goes by SMS or e-mail.
AD_FORBIDDEN_CHANNELS = frozenset({"kakao"})


def parse_hhmm(value: str) -> time:
    """ "22:00" → time(22, 0); raises ValueError naming the format."""
    try:
        hh, mm = value.split(":")
        return time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise ValueError("expected HH:MM (24-hour), e.g. 22:00") from None


def in_window(t: time, start: time, end: time) -> bool:
    """Whether local time `t` is inside [start, end), windows may wrap midnight."""
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def _window_end(local: datetime, start: time, end: time) -> datetime:
    """The first local moment at or after `local` outside the window [start, end)."""
    candidate = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if candidate <= local:
        candidate += timedelta(days=1)
    return candidate


def next_allowed(
    now: datetime, *, advertising: bool, quiet: tuple[time, time] | None, tz: str = AD_TZ
) -> datetime:
    """The earliest time ≥ now at which the message may be sent (UTC-aware in, aware out)."""
    windows: list[tuple[time, time, str]] = []
    if advertising:
        windows.append((AD_NIGHT[0], AD_NIGHT[1], AD_TZ))
    if quiet is not None:
        windows.append((quiet[0], quiet[1], tz))
    when = now
    for _ in range(4):  # windows may chain (customer quiet hours ending inside the ad night)
        moved = False
        for start, end, zone in windows:
            local = when.astimezone(ZoneInfo(zone))
            if in_window(local.time(), start, end):
                when = _window_end(local, start, end).astimezone(now.tzinfo)
                moved = True
        if not moved:
            break
    return when


def allowed_channels(channels: list[str], *, advertising: bool, opt_out: set[str]) -> list[str]:
    """Channels left after the customer's opt-outs and the advertising restrictions."""
    return [c for c in channels if c not in opt_out and not (advertising and c in AD_FORBIDDEN_CHANNELS)]
