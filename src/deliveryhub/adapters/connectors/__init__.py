"""Connectors' vendor code: one mapper per outside payload shape, status vocabularies as data.

    carriers.yaml   every connector's status table and each Korean carrier's number rule (data)
    statuses.py     raw code/text -> one of the nine tracking tags, from that data
    registry.py     the connectors: one factory turns each Korean carrier entry into a Connector
    tracking.py     tracking events and the one Korean carrier payload mapper
    aftership.py, easypost.py, shopify/   the payload shapes that are not Korean carriers
    base.py         mapping result, settings, the polling client, HTTP errors
    signatures.py   how each sender signs a push
    csv_import/, olist/   file importers

Pure or I/O-only: no feature, entrypoint or bootstrap is imported here; the running connectors (polling,
silence watch, webhook service) are the feature package ``deliveryhub.connectors``.
"""
