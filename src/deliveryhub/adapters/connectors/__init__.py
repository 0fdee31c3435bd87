"""Connectors: one package per outside system (shop, carrier, tracking aggregator).

Each package is a triad, after karrio's connectors:

    settings.py   typed settings (secrets, poll URL, rate limit)
    statuses.py   raw carrier code/text -> (tag, reason), as data
    mapper.py     pure: vendor payload -> MappingResult(events, unmapped)
    proxy.py      I/O only: httpx client that polls the vendor and parses with the mapper

The registry in ``base.py`` discovers the packages listed in ``CONNECTOR_PACKAGES``.
"""
