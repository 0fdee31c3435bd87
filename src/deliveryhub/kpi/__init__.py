"""KPIs: the catalog as data, the engine over the read models and the inbox, targets, alerts, reports."""
