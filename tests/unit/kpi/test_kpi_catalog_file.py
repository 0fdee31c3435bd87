"""The catalog file: shipped entries, user extension/override, validation errors with line numbers, status."""

from __future__ import annotations

from pathlib import Path

import pytest

from deliveryhub.kpi.catalog import CatalogError, Target, load_catalog, parse_catalog_text
from deliveryhub.kpi.engine import evaluate_status


def test_shipped_catalog_covers_kpis_md() -> None:
    cat = load_catalog()
    spec = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "KPIS.md"
    keys = {ln.split("`")[1] for ln in spec.read_text(encoding="utf-8").splitlines() if ln.startswith("| `")}
    assert len(keys) == 34 and keys <= set(cat)
    d = cat["delivery_delay_rate"]
    assert (d.name_ko, d.unit, d.direction, d.industry_avg) == ("배송 지연율", "rate", "lower", 0.055)
    assert d.target == Target(op="<", threshold=0.03)
    assert cat["claims_count"].target == Target(change_vs_previous=-0.40)
    assert cat["stage_automation_rate"].industry_text() == "0.45–0.95"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "kpis:\n  - key: x_rate\n    name_ko: a\n    name_en: b\n    kind: ratio\n    input: orders\n"
            "    time: created_at\n    numerator: total >=\n    unit: rate\n    direction: higher\n",
            8,
            "numerator",
        ),
        (
            "kpis:\n  - key: x_rate\n    name_ko: a\n    name_en: b\n    kind: median\n    unit: rate\n"
            "    direction: higher\n",
            5,
            "kind",
        ),
        (
            "kpis:\n  - key: x_rate\n    name_ko: a\n    name_en: b\n    kind: ratio\n    input: nowhere\n"
            "    unit: rate\n    direction: higher\n",
            6,
            "input",
        ),
        (
            "kpis:\n  - key: x_rate\n    name_ko: a\n    name_en: b\n    kind: ratio\n    input: orders\n",
            2,
            "unit",
        ),
        ("kpis:\n  - key: delivery_delay_rate\n    target: soon\n", 3, "target"),
        ("kpis:\n  - key: delivery_delay_rate\n    colour: red\n", 3, "colour"),
        ("kpis:\n  - key: aov\n    warning: 1\n  - key: aov\n", 4, "twice"),
        ("kpis: [\n", 2, "YAML"),
    ],
)
def test_errors_name_file_line_and_field(text: str, line: int, words: str) -> None:
    base = load_catalog()
    with pytest.raises(CatalogError) as err:
        parse_catalog_text(text, "my.yaml", base)
    msg = str(err.value)
    assert msg.startswith(f"my.yaml:{line}:"), msg
    assert words in msg


def test_status_against_target_and_warning() -> None:
    cat = load_catalog()
    delay, on_time, claims = cat["delivery_delay_rate"], cat["on_time_delivery_rate"], cat["claims_count"]
    assert evaluate_status(delay, 0.02) == (0.03, "ok")
    assert evaluate_status(delay, 0.027) == (0.03, "warning")  # warning threshold 0.025
    assert evaluate_status(delay, 0.03) == (0.03, "breach")  # strict "< 0.03"
    assert evaluate_status(on_time, 0.99) == (0.98, "ok")
    assert evaluate_status(on_time, 0.981) == (0.98, "warning")
    assert evaluate_status(on_time, 0.97) == (0.98, "breach")
    assert evaluate_status(delay, None) == (0.03, "no_data")
    assert evaluate_status(cat["avg_delivery_days"], 3.0) == (None, "no_target")
    assert evaluate_status(claims, 5, previous=10) == (6.0, "ok")
    assert evaluate_status(claims, 7, previous=10) == (6.0, "breach")
    assert evaluate_status(claims, 7, previous=None) == (None, "no_target")
