"""The connectors runtime (a feature): what runs on top of the vendor code in ``adapters/connectors``.

wiring.py    register(core) -> ConnectorsFeature: health consumer, polling and silence jobs, metrics
polling.py   the ``connectors.poll`` job: in-flight parcels of carriers without push, rate-slotted
silence.py   the ``connectors.silence`` job: a source quiet in its business hours alerts ops once
health.py    unknown raw statuses (consumer) and when each source last sent something
pushes.py    the service behind the webhook routes (entrypoints/api/routers/webhooks.py)
inbound.py   who may push: secrets, allowlists, replay memory, pushed orders
config.py    per-shop secrets and silence rules from the one config file and the environment
queries.py   what other features may ask (never our tables)
"""
