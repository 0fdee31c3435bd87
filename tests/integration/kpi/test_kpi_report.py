"""Monthly KPI/VOC report for a simulated month: the PDF text has the KPI table rows and the VOC section."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dh_testkit import make_hub


def _hub(tmp_path: Path, master_key: str):  # type: ignore[no-untyped-def]
    from test_kpi_catalog_values import NOW, events

    from deliveryhub.kernel.clock import ManualClock

    hub = make_hub(tmp_path, master_key, clock=ManualClock(NOW), features=False)
    hub.ingest.ingest(events())
    return hub


@pytest.mark.slow
def test_monthly_report_pdf_has_kpi_rows_and_voc(tmp_path: Path, master_key: str) -> None:
    from deliveryhub.kpi.engine import KpiEngine
    from deliveryhub.kpi.report import build_report, write_report

    hub = _hub(tmp_path, master_key)
    try:
        engine = KpiEngine(hub.db, now=hub.clock.now)
        data = build_report(engine, "2026-10", "Asia/Seoul")
        rows = {r["key"]: r for r in data["rows"]}
        assert (
            rows["delivery_delay_rate"]["this"] == "66.7%"
            and rows["delivery_delay_rate"]["status"] == "breach"
        )
        assert (
            rows["delivery_delay_rate"]["industry"] == "5.5%" and rows["delivery_delay_rate"]["last"] == "—"
        )
        assert rows["claims_count"]["last"] == "1건" and rows["claims_count"]["this"] == "2건"
        # Four tickets: T1 delivery_delay and T2 damaged stored; T3/T4 classified (or 'other').
        assert data["voc_total"] == 4
        shares = {v["key"]: v["share"] for v in data["voc"]}
        assert shares["delivery_delay"] is not None and shares["delivery_delay"] >= 0.25
        assert abs(sum(v for v in shares.values() if v) - 1.0) < 1e-9
        assert any(a["name_en"] == "Delivery delay rate" for a in data["actions"])
        assert data["summary"]["orders"] == 6 and data["summary"]["delivered"] == 3

        out = write_report(engine, "2026-10", tmp_path / "report.pdf", "Asia/Seoul")
        assert out.read_bytes()[:5] == b"%PDF-"
        text = subprocess.run(
            ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "월간 KPI·VOC 보고서 — 2026-10" in text
        for line in ("배송 지연율", "납기 준수율", "고객 만족도", "CS 1차 응대 시간"):
            assert line in text, line
        delay_line = next(ln for ln in text.splitlines() if "배송 지연율" in ln)
        # Value, industry average and target, each in the value's unit.
        assert "66.7%" in delay_line and "5.5%" in delay_line and "3% 미만" in delay_line
        assert "VOC 분석 / VOC categories" in text and "배송 지연" in text and "35–58%" in text
        assert "개선 과제 / Improvement actions" in text
        # October's late deliveries (B and C) are listed with how late they were, and the trend spans the
        # months with data rather than a fixed six.
        assert "약속일보다 늦은 배송" in text and "일 늦음)" in text and "개월" in text

        html = write_report(engine, "2026-10", tmp_path / "report.html", "Asia/Seoul").read_text(
            encoding="utf-8"
        )
        assert "data:image/png;base64," in html  # trend charts rendered offline and embedded
    finally:
        hub.close()


def test_report_cli_rejects_bad_month(tmp_path: Path) -> None:
    import typer

    from deliveryhub.entrypoints.kpi_cli import report_monthly

    with pytest.raises(typer.Exit):
        report_monthly(
            {"db_url": f"sqlite:///{tmp_path}/x.db"}, "2026-13", tmp_path / "r.pdf", "Asia/Seoul"
        )
    with pytest.raises(typer.Exit):
        report_monthly(
            {"db_url": f"sqlite:///{tmp_path}/x.db"}, "2026-10", tmp_path / "r.docx", "Asia/Seoul"
        )
