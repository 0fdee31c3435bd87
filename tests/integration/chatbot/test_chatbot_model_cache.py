"""The intent model is trained once and then loaded from its cache directory on disk."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_model_is_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deliveryhub.chatbot.nlu import model as nlu

    monkeypatch.setenv("DELIVERYHUB_CACHE_DIR", str(tmp_path))
    nlu.reset_models()
    try:
        trained = nlu.intent_model()
        assert trained.path.exists()
        corpus = [nlu.DATA_DIR / "intents_train.jsonl"]
        again = nlu.train_or_load("intent", corpus, "intent", c=nlu.INTENT_C, directory=trained.path.parent)
        assert again.source == "cache"
        assert again.path == trained.path
    finally:
        nlu.reset_models()
