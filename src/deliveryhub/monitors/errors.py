"""Errors the monitors feature raises to its callers (the HTTP router turns them into 404 / 409)."""

from __future__ import annotations


class NotFound(LookupError):
    """No exception or compensation record with that id."""


class InvalidTransition(ValueError):
    """The record's status does not allow the action (e.g. resolving a resolved exception)."""
