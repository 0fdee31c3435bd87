"""Korean-first NLU for the customer chatbot: normalisation, features, entities, escalation, intents.

The public entry points live in :mod:`deliveryhub.chatbot.nlu.api`; importing this package is cheap
(kiwi and scikit-learn are loaded lazily on first classification).
"""
