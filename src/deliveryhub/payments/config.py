"""The `payments:` and `address_lookup:` sections of the hub's config file (environment as the fallback).

```yaml
payments:
  toss_secret_key: "${TOSS_SECRET_KEY}"     # read from the environment: never write the key itself here
  toss_base_url: https://api.tosspayments.com
  timeout_s: 10
address_lookup:
  juso_key: "${JUSO_CONFM_KEY}"             # 도로명주소 API 승인키 (confmKey)
  juso_url: https://business.juso.go.kr/addrlink/addrLinkApi.do
  timeout_s: 3
```

Without a file section the environment is read: DELIVERYHUB_TOSS_SECRET_KEY, DELIVERYHUB_TOSS_BASE_URL,
DELIVERYHUB_JUSO_KEY, DELIVERYHUB_JUSO_URL. A value in the file wins over the environment. The secret
values are `SecretStr`: they print as `**********` wherever a config object is shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from deliveryhub.adapters.outside.juso import DEFAULT_URL as JUSO_URL
from deliveryhub.adapters.outside.toss import DEFAULT_BASE_URL as TOSS_URL
from deliveryhub.kernel import configfile
from deliveryhub.kernel.configfile import expand_env


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _url(value: str | None) -> str | None:
    value = (expand_env(value) or "").strip() if value else None
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return value or None


class PaymentsCfg(_Strict):
    """`payments:`: the Toss Payments account refunds go through."""

    toss_secret_key: SecretStr | None = None
    toss_base_url: str | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=60)

    @field_validator("toss_base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return _url(value)


class AddressLookupCfg(_Strict):
    """`address_lookup:`: the 도로명주소 API approval key."""

    juso_key: SecretStr | None = None
    juso_url: str | None = None
    timeout_s: float = Field(default=3.0, gt=0, le=30)

    @field_validator("juso_url")
    @classmethod
    def _u(cls, value: str | None) -> str | None:
        return _url(value)


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = (environ.get(name) or "").strip()
    return value or None


def load_payments(config_file: Path | str | None, environ: Mapping[str, str] | None = None) -> PaymentsCfg:
    """The `payments:` section, the environment filling what the file leaves out."""
    env = os.environ if environ is None else environ
    cfg = configfile.load_section(config_file, "payments", PaymentsCfg)
    secret = expand_env(cfg.toss_secret_key.get_secret_value(), env) if cfg.toss_secret_key else None
    secret = (secret or "").strip() or _env(env, "DELIVERYHUB_TOSS_SECRET_KEY")
    base = cfg.toss_base_url or _url(_env(env, "DELIVERYHUB_TOSS_BASE_URL")) or TOSS_URL
    return PaymentsCfg(
        toss_secret_key=SecretStr(secret) if secret else None, toss_base_url=base, timeout_s=cfg.timeout_s
    )


def load_address_lookup(
    config_file: Path | str | None, environ: Mapping[str, str] | None = None
) -> AddressLookupCfg:
    """The `address_lookup:` section, the environment filling what the file leaves out."""
    env = os.environ if environ is None else environ
    cfg = configfile.load_section(config_file, "address_lookup", AddressLookupCfg)
    key = expand_env(cfg.juso_key.get_secret_value(), env) if cfg.juso_key else None
    key = (key or "").strip() or _env(env, "DELIVERYHUB_JUSO_KEY")
    url = cfg.juso_url or _url(_env(env, "DELIVERYHUB_JUSO_URL")) or JUSO_URL
    return AddressLookupCfg(juso_key=SecretStr(key) if key else None, juso_url=url, timeout_s=cfg.timeout_s)
