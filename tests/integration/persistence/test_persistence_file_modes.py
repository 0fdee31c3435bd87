"""Another local user cannot read the hub's SQLite database: hub.db, its -wal/-shm and the data directory
are private to the hub's own user (0600 / 0700), whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dh_testkit import event, make_hub


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A world-traversable parent, as /srv or a home directory often is (pytest's tmp root is not)."""
    d = Path(tempfile.mkdtemp(prefix="dh-modes-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        subprocess.run(["rm", "-rf", str(d)], check=False)


def _as_nobody_can_read(path: Path) -> bool:
    """Whether an unprivileged other user (nobody) can open `path` for reading."""
    r = subprocess.run(
        ["/usr/bin/head", "-c", "1", str(path)],
        user=65534,
        group=65534,
        extra_groups=[],
        capture_output=True,
        check=False,
    )
    return r.returncode == 0


def test_database_files_and_data_dir_are_private_even_with_a_lax_umask(
    open_dir: Path, master_key: str
) -> None:
    data = open_dir / "var"
    old = os.umask(0o000)  # the most careless operator: nothing masked
    try:
        hub = make_hub(data, master_key)
        try:
            hub.ingest.ingest([event("m1", "order.created", "ORD-MODE-1", "2027-01-31T23:40:00+09:00", {})])
            db = data / "hub.db"
            files = [db, data / "hub.db-wal", data / "hub.db-shm"]
            for f in files:
                assert f.exists(), f
                assert _mode(f) == 0o600, (f, oct(_mode(f)))
            assert _mode(data) == 0o700, oct(_mode(data))
            if os.geteuid() == 0:
                # Another user's view: even if someone opens up the directory, the files stay closed.
                data.chmod(0o755)
                control = data / "control.txt"
                control.write_text("x")
                control.chmod(0o644)
                assert _as_nobody_can_read(control)  # the probe itself works
                for f in files:
                    assert not _as_nobody_can_read(f), f
        finally:
            hub.close()
    finally:
        os.umask(old)


def test_a_world_readable_database_from_an_older_version_is_tightened(
    tmp_path: Path, master_key: str
) -> None:
    db = tmp_path / "hub.db"
    make_hub(tmp_path, master_key).close()
    db.chmod(0o644)
    hub = make_hub(tmp_path, master_key)
    try:
        assert _mode(db) == 0o600
    finally:
        hub.close()
