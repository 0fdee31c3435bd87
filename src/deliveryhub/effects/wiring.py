"""Plug the effects feature into the core (the outside-action ledger and its driver); on `Hub.effects`."""

from __future__ import annotations

from dataclasses import dataclass

from deliveryhub.service_layer.hub import Core


@dataclass
class EffectsFeature:
    """What the rest of the hub uses of the effects feature."""


def register(core: Core) -> EffectsFeature:
    """Wire the ledger and the outside adapters (helper B fills this in)."""
    return EffectsFeature()
