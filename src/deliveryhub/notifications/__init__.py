"""Customer and ops notifications: rules, templates, policy, preferences, delivery and proof."""
