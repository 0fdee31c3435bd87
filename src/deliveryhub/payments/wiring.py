"""Plug the payments feature into the core (refunds, Toss adapter); handle on `Hub.payments_feature`."""

from __future__ import annotations

from dataclasses import dataclass

from deliveryhub.service_layer.hub import Core


@dataclass
class PaymentsFeature:
    """What the rest of the hub uses of the payments feature."""


def register(core: Core) -> PaymentsFeature:
    """Wire refunds and the payments adapter (helper C fills this in)."""
    return PaymentsFeature()
