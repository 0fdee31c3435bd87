"""tracker.delivery (GraphQL ``track``, tracking webhook): a Korean tracking source for routed carriers."""

from deliveryhub.adapters.connectors.trackerdelivery.settings import TrackerDeliverySettings

__all__ = ["TrackerDeliverySettings"]
