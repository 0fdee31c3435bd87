"""The KPI catalog with a user file on disk: entries added and overridden."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.kpi.catalog import Target, load_catalog


def test_user_file_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "kpis.yaml"
    f.write_text(
        "kpis:\n"
        "  - key: delivery_delay_rate\n"
        "    target: '< 0.02'\n"
        "  - key: big_order_rate\n"
        "    name_ko: 고액 주문 비율\n"
        "    name_en: Big order rate\n"
        "    kind: ratio\n"
        "    input: orders\n"
        "    time: created_at\n"
        "    numerator: total >= 100000\n"
        "    unit: rate\n"
        "    direction: higher\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DELIVERYHUB_KPI_CATALOG", str(f))
    cat = load_catalog()
    assert cat["delivery_delay_rate"].target == Target(op="<", threshold=0.02)
    assert cat["delivery_delay_rate"].name_ko == "배송 지연율"  # untouched fields stay
    assert cat["big_order_rate"].numerator == "total >= 100000"
