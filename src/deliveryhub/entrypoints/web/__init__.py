"""The ops web pages: dashboard, order timeline; base layout, static files, i18n (ko default, en)."""
