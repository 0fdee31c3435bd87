"""Template rendering: 알림톡-style #{변수} texts (ko/en) and Jinja2 e-mail layouts (HTML + text)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from deliveryhub.kernel.labels import is_known, label
from deliveryhub.kernel.timefmt import parse_datetime

TEMPLATES = Path(__file__).with_name("templates")
LANGS = ("ko", "en")
AD_PREFIX = "(광고)"
_VAR = re.compile(r"#\{([^{}]{1,40})\}")

# Claim and compensation kinds read inside a sentence ("we received your damage claim", "we issued a
# coupon"), so their wording stays with the templates rather than in the kernel's label table.
CLAIM_KINDS = {
    "delay": ("배송 지연", "delay"),
    "damage": ("파손", "damage"),
    "wrong_item": ("오배송", "wrong item"),
    "missing": ("분실", "missing item"),
    "other": ("기타 문의", "other"),
}
COMP_KINDS = {"coupon": ("쿠폰", "a coupon"), "refund": ("환불", "a refund"), "points": ("적립금", "points")}
WEEKDAYS_KO = "월화수목금토일"
UNKNOWN = ("확인 중", "to be confirmed")


@lru_cache(maxsize=4)
def messages(lang: str) -> dict[str, dict[str, str]]:
    """The message templates of one language."""
    doc = yaml.safe_load((TEMPLATES / f"messages.{lang}.yaml").read_text(encoding="utf-8"))
    return {str(k): {"subject": str(v["subject"]), "text": str(v["text"])} for k, v in doc.items()}


def template_codes() -> set[str]:
    """Codes present in every language."""
    codes = set(messages(LANGS[0]))
    for lang in LANGS[1:]:
        codes &= set(messages(lang))
    return codes


def variables_of(text: str) -> list[str]:
    """The #{변수} names a template uses, in order."""
    return _VAR.findall(text)


def fill(text: str, variables: dict[str, str]) -> str:
    """Substitute #{변수}; a missing variable becomes an empty string rather than a raw placeholder."""
    return _VAR.sub(lambda m: str(variables.get(m.group(1), "")), text)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def carrier_name(code: Any, lang: str) -> str:
    """The carrier's name people read ("CJ대한통운"); an unknown carrier code is shown as it is."""
    text = str(code or "")
    return label("carrier", text, lang) if is_known("carrier", text) else text


def stage_name(stage: str, lang: str) -> str:
    """The stage's one name (kernel labels, the same the bot and pages use); unknown stages as they are."""
    return label("stage", stage, lang) if is_known("stage", stage) else stage


def eta_text(eta_min: Any, eta_max: Any, lang: str, tz: str) -> str:
    """An ETA window in local time: "11월 23일(월) 14:00~16:00" / "Mon 23 Nov 14:00–16:00"."""
    lo, hi = parse_datetime(eta_min), parse_datetime(eta_max)
    if lo is None and hi is None:
        return _pick(UNKNOWN, lang)
    zone = ZoneInfo(tz)
    a = (lo or hi).astimezone(zone)  # type: ignore[union-attr]
    b = (hi or lo).astimezone(zone)  # type: ignore[union-attr]

    def day(d: datetime) -> str:
        if lang == "en":
            return d.strftime("%a %d %b")
        return f"{d.month}월 {d.day}일({WEEKDAYS_KO[d.weekday()]})"

    if a.date() == b.date():
        if (a.hour, a.minute) == (0, 0) and (b.hour, b.minute) in ((0, 0), (23, 59)):
            return day(a)
        sep = "–" if lang == "en" else "~"
        return f"{day(a)} {a:%H:%M}{sep}{b:%H:%M}"
    sep = " – " if lang == "en" else " ~ "
    return f"{day(a)}{sep}{day(b)}"


def won(amount: Any, lang: str) -> str:
    """3000 → "3,000원" / "₩3,000"."""
    try:
        n = int(round(float(amount)))
    except (TypeError, ValueError):
        return ""
    return f"₩{n:,}" if lang == "en" else f"{n:,}원"


def variables_for(context: dict[str, Any], lang: str, tz: str, shop: str, name: str | None) -> dict[str, str]:
    """The 알림톡 templateParameter from a job's (non-personal) context plus the recipient's name."""
    carrier = str(context.get("carrier") or "")
    stage = str(context.get("stage") or "")
    reason = str(context.get("reason") or "")
    out = {
        "상점명": shop,
        "고객명": name or ("customer" if lang == "en" else "고객"),
        "주문번호": str(context.get("order_id") or ""),
        "택배사": carrier_name(carrier, lang) or _pick(UNKNOWN, lang),
        "송장번호": str(context.get("tracking_no") or _pick(UNKNOWN, lang)),
        "조회링크": str(context.get("link") or ""),
        "도착예정": eta_text(context.get("eta_min"), context.get("eta_max"), lang, tz),
        "사유": label("reason", reason, lang)
        if is_known("reason", reason)
        else (reason or _pick(UNKNOWN, lang)),
        "금액": won(context.get("amount"), lang),
        "클레임": _pick(CLAIM_KINDS.get(str(context.get("claim_kind")), CLAIM_KINDS["other"]), lang),
        "보상": _pick(COMP_KINDS.get(str(context.get("compensation_kind")), COMP_KINDS["coupon"]), lang),
        "단계": stage_name(stage, lang),
        "제목": str(context.get("subject") or ""),
        "내용": str(context.get("body") or ""),
    }
    return out


@lru_cache(maxsize=1)
def _jinja() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html.j2", "html"], default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render(
    code: str,
    lang: str,
    variables: dict[str, str],
    *,
    advertising: bool = False,
    opt_out_line: str = "",
    link: str | None = None,
) -> dict[str, str]:
    """Subject, plain text and HTML of one message; advertising gets "(광고)" first and the opt-out line."""
    lang = lang if lang in LANGS else "ko"
    tpl = messages(lang)[code]
    subject = fill(tpl["subject"], variables)
    text = fill(tpl["text"], variables)
    if advertising:
        # 정보통신망법 제50조 제4항: an advertising message starts with "(광고)" and says how to opt out.
        if not text.startswith(AD_PREFIX):
            text = f"{AD_PREFIX}{text}"
        if not subject.startswith(AD_PREFIX):
            subject = f"{AD_PREFIX}{subject}"
        if opt_out_line:
            text = f"{text}\n{opt_out_line}"
    footer = (
        "이 메일은 발신 전용입니다. 문의는 고객센터를 이용해 주세요."
        if lang == "ko"
        else "This is an automated message; please contact our help desk with questions."
    )
    if advertising and opt_out_line:
        footer = f"{opt_out_line} · {footer}"
    button = "배송 조회하기" if lang == "ko" else "Track your delivery"
    # The link already appears in the text; the HTML shows it as a button instead of a raw line.
    lines = [ln for ln in text.splitlines() if not (link and ln.strip().endswith(link))]
    env = _jinja()
    html = env.get_template("email.html.j2").render(
        lang=lang,
        subject=subject,
        shop=variables.get("상점명", ""),
        lines=lines,
        link=link,
        button=button,
        footer=footer,
    )
    email_text = env.get_template("email.txt.j2").render(text=text, link=None, button=button, footer=footer)
    return {"subject": subject, "text": text, "html": html, "email_text": email_text}
