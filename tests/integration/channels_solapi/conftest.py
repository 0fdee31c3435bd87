"""The local SOLAPI, Slack and KakaoWork servers (chat_sms_fakes.py), one of each per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chat_sms_fakes import Recorder, chat_app, solapi_app

from dh_testkit import serving


@pytest.fixture(scope="module")
def solapi() -> Iterator[tuple[str, Recorder]]:
    """A running fake SOLAPI and its recorder."""
    state = Recorder()
    with serving(solapi_app(state)) as base:
        yield base, state


@pytest.fixture(scope="module")
def chat() -> Iterator[tuple[str, Recorder, Recorder]]:
    """A running fake Slack webhook + KakaoWork API and their recorders."""
    slack, kakaowork = Recorder(), Recorder()
    with serving(chat_app(slack, kakaowork)) as base:
        yield base, slack, kakaowork
