"""Shops: the tenants of one hub. Each shop is a silo with its own database (SQLite file or PostgreSQL
schema), its own key-encryption root and its own wired hub; the platform database lists them."""
