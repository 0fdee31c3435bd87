"""Transitional: the HTTP side of security moved to deliveryhub.entrypoints.api.security.

Kept only while other packages still import these names from here; removed at the end of issue 14."""

from deliveryhub.entrypoints.api.security import SESSION_COOKIE, client_ip, scope_ip

__all__ = ["SESSION_COOKIE", "client_ip", "scope_ip"]
