"""Onboarding from the command line, as an operator types it: create a shop, give it a key and a user,
list, check, erase — and the mistakes: a bad slug, a taken one, an unknown shop, an erase without --yes."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path


def _cli(tmp_path: Path, master: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/hub.db",
        "DELIVERYHUB_MASTER_KEY": master,
        "DELIVERYHUB_DATA_DIR": str(tmp_path),
        "DELIVERYHUB_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "deliveryhub.entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_an_operator_onboards_and_erases_a_seller(tmp_path: Path) -> None:
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    created = _cli(tmp_path, master, "shops", "create", "--name", "가나다 상점", "--slug", "shop-a")
    assert created.returncode == 0, created.stderr[-2000:]
    assert json.loads(created.stdout.strip().splitlines()[-1]) == {"slug": "shop-a", "name": "가나다 상점"}
    assert "keys create --shop shop-a" in created.stderr  # the next step is printed

    bad = _cli(tmp_path, master, "shops", "create", "--name", "x", "--slug", "Shop A!")
    assert bad.returncode == 2 and "slug" in bad.stderr
    taken = _cli(tmp_path, master, "shops", "create", "--name", "또", "--slug", "shop-a")
    assert taken.returncode == 2 and "already exists" in taken.stderr

    key = _cli(
        tmp_path, master, "keys", "create", "--shop", "shop-a", "--name", "oms", "--role", "integration"
    )
    assert key.returncode == 0, key.stderr[-2000:]
    assert key.stdout.strip().splitlines()[-1].startswith("dhk_shop-a.")
    # The global form names the shop for any command.
    listed = _cli(tmp_path, master, "--shop", "shop-a", "keys", "list")
    assert [k["name"] for k in json.loads(listed.stdout)] == ["oms"]
    assert json.loads(_cli(tmp_path, master, "keys", "list").stdout) == []  # the default shop has none
    user = _cli(
        tmp_path,
        master,
        "users",
        "create",
        "--shop",
        "shop-a",
        "--email",
        "a@shop-a.example",
        "--role",
        "ops",
        "--password",
        "a long enough password",
    )
    assert user.returncode == 0, user.stderr[-2000:]
    platform_user = _cli(
        tmp_path,
        master,
        "users",
        "create",
        "--shop",
        "shop-a",
        "--email",
        "p@x.example",
        "--role",
        "platform",
        "--password",
        "a long enough password",
    )
    assert platform_user.returncode == 2 and "platform" in platform_user.stderr

    shops = json.loads(_cli(tmp_path, master, "shops", "list").stdout)
    assert [s["slug"] for s in shops] == ["default", "shop-a"]
    assert set(shops[1]["usage"]) >= {"events", "notices", "chats"}
    doctor = _cli(tmp_path, master, "doctor", "--shop", "shop-a")
    assert "shop-a" in doctor.stdout

    unknown = _cli(tmp_path, master, "keys", "create", "--shop", "shop-zz", "--name", "x", "--role", "ops")
    assert unknown.returncode == 2 and "shop-zz" in unknown.stderr
    refused = _cli(tmp_path, master, "shops", "erase", "--slug", "shop-a")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    erased = _cli(tmp_path, master, "shops", "erase", "--slug", "shop-a", "--yes")
    assert erased.returncode == 0, erased.stderr[-2000:]
    assert not (tmp_path / "shops" / "shop-a.db").exists()
    after = _cli(tmp_path, master, "keys", "list", "--shop", "shop-a")
    assert after.returncode == 2
    assert [s["slug"] for s in json.loads(_cli(tmp_path, master, "shops", "list").stdout)] == ["default"]


def test_an_operator_changes_a_sellers_limit_from_the_command_line(tmp_path: Path) -> None:
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    assert _cli(tmp_path, master, "shops", "create", "--name", "가나다", "--slug", "shop-a").returncode == 0
    done = _cli(
        tmp_path, master, "shops", "set", "--slug", "shop-a", "--rate-limit", "120", "--name", "가나다몰"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "slug": "shop-a",
        "name": "가나다몰",
        "rate_limit_per_minute": 120,
    }
    nothing = _cli(tmp_path, master, "shops", "set", "--slug", "shop-a")
    assert nothing.returncode == 2 and "--rate-limit" in nothing.stderr
    too_low = _cli(tmp_path, master, "shops", "set", "--slug", "shop-a", "--rate-limit", "1")
    assert too_low.returncode == 2 and "rate-limit" in too_low.stderr
    unknown = _cli(tmp_path, master, "shops", "set", "--slug", "nope", "--name", "x")
    assert unknown.returncode == 2 and "nope" in unknown.stderr
