"""E-mail over SMTP (DELIVERYHUB_SMTP_URL: smtp://[user:pass@]host:port[?starttls=1] or smtps://...),
multipart/alternative with a plain-text and an HTML part."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlparse

from deliveryhub.adapters.channels.base import OutgoingMessage, SendResult


class SmtpEmail:
    """Sends one e-mail per message through the configured SMTP relay."""

    name = "email"
    provider = "smtp"

    def __init__(
        self, url: str, sender: str = "deliveryhub <no-reply@deliveryhub.local>", timeout: float = 10.0
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps"):
            raise ValueError("DELIVERYHUB_SMTP_URL must start with smtp:// or smtps://")
        self.host = parsed.hostname or "127.0.0.1"
        self.ssl = parsed.scheme == "smtps"
        self.port = parsed.port or (465 if self.ssl else 25)
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        query = parse_qs(parsed.query)
        self.starttls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.sender = sender
        self.timeout = timeout

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The MIME message (text part first, HTML alternative second)."""
        mail = EmailMessage()
        mail["Subject"] = message.subject or message.text.splitlines()[0][:80]
        mail["From"] = self.sender
        mail["To"] = formataddr(("", message.to))
        mail["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex[:12], domain="deliveryhub.local")
        if message.idempotency_key:
            # Lets a receiving system drop a re-sent copy after a crash between send and record.
            mail["X-Deliveryhub-Key"] = message.idempotency_key
        mail.set_content(message.text, charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    def send(self, message: OutgoingMessage) -> SendResult:
        """Hand the message to the SMTP server."""
        mail = self.build(message)
        try:
            smtp: smtplib.SMTP
            if self.ssl:
                smtp = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult.failure(
                self.provider, f"recipient refused: {list(exc.recipients.values())[:1]}", retryable=False
            )
        except smtplib.SMTPResponseException as exc:
            return SendResult.failure(
                self.provider, f"smtp {exc.smtp_code}", retryable=exc.smtp_code >= 400 and exc.smtp_code < 500
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult.failure(self.provider, f"smtp unavailable: {type(exc).__name__}")
        if refused:
            return SendResult.failure(self.provider, "recipient refused", retryable=False)
        return SendResult(ok=True, provider=self.provider, status="sent", message_id=str(mail["Message-ID"]))
