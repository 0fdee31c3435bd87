"""Plug the payments feature into the core (refunds, Toss adapter, address look-up); handle on
`Hub.payments_feature`."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from deliveryhub.adapters.outside.juso import JusoLookup
from deliveryhub.adapters.outside.toss import TossPayments
from deliveryhub.payments.config import load_address_lookup, load_payments
from deliveryhub.payments.refunds import RefundBook
from deliveryhub.service_layer.hub import Core

log = structlog.get_logger(__name__)


@dataclass
class PaymentsFeature:
    """What the rest of the hub uses of the payments feature: the refund book, and the Toss client (None
    when this shop has no Toss account configured) for the webhook route."""

    refunds: RefundBook
    toss: TossPayments | None = None
    address_lookup: JusoLookup | None = None


def toss_client(core: Core) -> TossPayments | None:
    """The Toss client from the `payments:` section / environment (None when no secret key is set)."""
    cfg = load_payments(core.settings.config_file)
    if cfg.toss_secret_key is None:
        return None
    return TossPayments(
        cfg.toss_secret_key.get_secret_value(),
        cfg.toss_base_url or "https://api.tosspayments.com",
        timeout_s=cfg.timeout_s,
    )


def address_lookup(core: Core) -> JusoLookup | None:
    """The 도로명주소 API client from `address_lookup:` / environment (None when no approval key is set)."""
    cfg = load_address_lookup(core.settings.config_file)
    if cfg.juso_key is None:
        return None
    return JusoLookup(cfg.juso_key.get_secret_value(), cfg.juso_url or "", timeout_s=cfg.timeout_s)


def register(core: Core) -> PaymentsFeature:
    """Wire refunds (always), the Toss payments adapter and the address look-up (when configured)."""
    book = RefundBook(core)
    core.consumers.append(book.consumer())
    core.order_sections["payment"] = book.order_section
    core.refunds = book
    toss = toss_client(core)
    if toss is not None:
        core.payments = toss
    lookup = address_lookup(core)
    if lookup is not None:
        core.address_book = lookup
    return PaymentsFeature(refunds=book, toss=toss, address_lookup=lookup)
