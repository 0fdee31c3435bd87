"""Which shop a credential belongs to: API keys and session tokens of a shop carry its slug.

A token reads `dhk_<slug>.<secret>` (API key) or `dhs_<slug>.<secret>` (session); tokens of the
`default` shop keep the v0.1 form without a slug. The slug only routes a request to the shop's own
database, where the secret is checked: a forged slug lands where the secret does not exist (401)."""

from __future__ import annotations

import re

DEFAULT_SHOP = "default"
PLATFORM_ROLE = "platform"
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


def token_shop_part(shop: str) -> str:
    """The part of a new token that names its shop (empty for `default`)."""
    return "" if shop == DEFAULT_SHOP else f"{shop}."


def shop_of_token(token: str, prefix: str) -> str | None:
    """The shop a token names (`default` for the v0.1 form); None when it is not a token of `prefix`."""
    if not token.startswith(prefix):
        return None
    rest = token[len(prefix) :]
    slug, dot, _secret = rest.partition(".")
    if not dot:
        return DEFAULT_SHOP
    return slug if SLUG_PATTERN.match(slug) else None
