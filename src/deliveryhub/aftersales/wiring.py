"""Plug the after-sales feature into the core (the returns workflow); its handle goes on `Hub.aftersales`."""

from __future__ import annotations

from dataclasses import dataclass

from deliveryhub.service_layer.hub import Core


@dataclass
class AftersalesFeature:
    """What the rest of the hub uses of the after-sales feature."""


def register(core: Core) -> AftersalesFeature:
    """Wire the returns workflow (helper A fills this in)."""
    return AftersalesFeature()
