"""bench api reads wrk's report: requests, p50/p99 in ms whatever unit wrk printed, and every error kind."""

from __future__ import annotations

import pytest

from deliveryhub.bench.api import parse_wrk_output

REPORT = """Running 8s test @ http://127.0.0.1:41234
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    61.20ms   12.01ms 320.11ms   91.02%
    Req/Sec   410.22     50.12   500.00     70.00%
  Latency Distribution
     50%   58.10ms
     75%   63.00ms
     90%   70.20ms
     99%    1.21s
  6543 requests in 8.01s, 9.87MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    816.85
Transfer/sec:      1.23MB
"""


def test_requests_percentiles_in_ms_and_all_errors() -> None:
    done, latency, errors = parse_wrk_output(REPORT)
    assert done == 6543
    assert latency == {"50": pytest.approx(58.10), "99": pytest.approx(1210.0)}
    assert errors == 2 + 3 + 7


def test_microseconds_are_converted() -> None:
    out = REPORT.replace("58.10ms", "870.00us")
    assert parse_wrk_output(out)[1]["50"] == pytest.approx(0.87)


def test_output_without_a_report_is_an_error_not_zero() -> None:
    with pytest.raises(RuntimeError, match="wrk"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")
