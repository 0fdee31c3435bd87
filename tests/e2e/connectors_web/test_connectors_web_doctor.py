"""`deliveryhub doctor` as a user runs it (subprocess, env config) names what is broken in plain words."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dh_testkit import free_port

BIN = Path(sys.executable).parent / "deliveryhub"


@pytest.fixture
def api() -> Iterator[str]:
    """A local HTTP service: /ok answers 200, /locked answers 401."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            return

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            status = 401 if self.path.startswith("/locked") else 200
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_doctor_names_the_broken_url_in_plain_words(tmp_path: Path, api: str, master_key: str) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    config = tmp_path / "automation.yaml"
    config.write_text(
        f"orchestration:\n  shops:\n    default:\n      wms_url: {api}/ok/wms\n"
        f"      tms_url: http://127.0.0.1:{free_port()}/tms\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
    env.update(
        {
            "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/doctor.db",
            "DELIVERYHUB_DATA_DIR": str(tmp_path),
            "DELIVERYHUB_MASTER_KEY": master_key,
            "DELIVERYHUB_CONFIG_FILE": str(config),
            "DELIVERYHUB_LOTTE_BASE_URL": dead,
            "DELIVERYHUB_CJ_BASE_URL": f"{api}/ok",
            "DELIVERYHUB_HANJIN_BASE_URL": f"{api}/locked",
            "DELIVERYHUB_HANJIN_API_KEY": "expired-key",
            "DELIVERYHUB_LOGEN_WEBHOOK_ALLOW_IPS": "203.0.113.0/24,logen-office",
            "COLUMNS": "400",
        }
    )
    done = subprocess.run([str(BIN), "doctor"], env=env, capture_output=True, text=True, timeout=120)
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert f"롯데택배 tracking API at {dead}: connection refused — is the URL right?" in out
    assert f"✔ connector cj: CJ대한통운 tracking API at {api}/ok answers (HTTP 200" in out
    assert (
        f"한진택배 tracking API at {api}/locked: reachable but refused our credentials (HTTP 401) — "
        "check DELIVERYHUB_HANJIN_API_KEY"
    ) in out
    assert f"✔ shop default wms: shop default WMS reserve-stock endpoint at {api}/ok/wms answers" in out
    tms_line = (
        "✘ shop default tms: ConnectionProblem: shop default TMS create-waybill endpoint at http://127.0.0.1:"
    )
    assert tms_line in out
    assert "connector epost" not in out  # not configured: not checked
    assert "DELIVERYHUB_LOGEN_WEBHOOK_ALLOW_IPS: 'logen-office' is not an IP address or CIDR" in out
    assert "some connections are broken" in out


def test_doctor_all_green_when_every_url_answers(tmp_path: Path, api: str, master_key: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELIVERYHUB_")}
    env.update(
        {
            "DELIVERYHUB_DB_URL": f"sqlite:///{tmp_path}/doctor.db",
            "DELIVERYHUB_DATA_DIR": str(tmp_path),
            "DELIVERYHUB_MASTER_KEY": master_key,
            "DELIVERYHUB_EPOST_BASE_URL": f"{api}/ok",
            "COLUMNS": "400",
        }
    )
    done = subprocess.run([str(BIN), "doctor"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"우체국택배 tracking API at {api}/ok answers" in done.stdout
