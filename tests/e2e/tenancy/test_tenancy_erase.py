"""Erasing a shop shreds it: no copy of its personal data decrypts again, and its neighbour is untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from deliveryhub.adapters.persistence import tables as t
from deliveryhub.pii.cipher import KeyError_
from deliveryhub.shops.directory import ShopError
from tenancy_kit import A_NAME, SHARED_ID, auth, two_shops


def test_erasing_b_shreds_every_copy_and_leaves_a(tmp_path: Path) -> None:
    with two_shops(tmp_path / "hub") as world:
        hub_b = world.hubs.hub("shop-b")
        assert hub_b is not None and hub_b.settings.sqlite_path is not None
        backup = tmp_path / "backup-of-b.db"
        # An operator's backup of B's database (SQLite's online backup: the WAL's pages included).
        with sqlite3.connect(hub_b.settings.sqlite_path) as source, sqlite3.connect(backup) as copy:
            source.backup(copy)
        b_key = world.keys["shop-b"]["admin"]
        assert world.client.get(f"/v1/orders/{SHARED_ID}", headers=auth(b_key)).status_code == 200

        world.hubs.erase("shop-b")

        # B is gone from the front door, for its own keys and for the operator.
        assert world.client.get(f"/v1/orders/{SHARED_ID}", headers=auth(b_key)).status_code == 404
        op = auth(world.platform_key, **{"X-Shop": "shop-b"})
        assert world.client.get(f"/v1/orders/{SHARED_ID}", headers=op).status_code == 404
        assert not hub_b.settings.sqlite_path.exists()
        with pytest.raises(ShopError):
            world.hubs.directory.root_key("shop-b")
        # The backup still holds ciphertext, but nothing the platform holds can open it.
        engine = sa.create_engine(f"sqlite:///{backup}")
        with engine.connect() as conn:
            wrapped = conn.execute(sa.select(t.data_keys.c.key_id, t.data_keys.c.wrapped)).all()
            sealed = conn.execute(sa.select(t.customers.c.name_enc)).scalars().all()
        engine.dispose()
        assert wrapped and any(sealed)
        master = world.hubs.platform.keyring.master
        for key_id, blob in wrapped:
            with pytest.raises(KeyError_):
                master.unwrap(blob, b"kek:" + key_id.encode())

        # A is untouched: its order and its customer's name still read in full.
        res = world.client.get(f"/v1/orders/{SHARED_ID}", headers=auth(world.keys["shop-a"]["admin"]))
        assert res.status_code == 200 and A_NAME in res.text
