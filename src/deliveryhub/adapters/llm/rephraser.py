"""An OpenAI-compatible chat-completions backend that rewords a finished answer in a customer-service
tone. It does the HTTP call and nothing else: what it may see and whether its wording is kept is the
caller's decision (the chatbot sends only masked text and drops a rewording that loses a number)."""

from __future__ import annotations

import httpx

STYLE = {
    "ko": "정중한 해요체의 한국어 고객센터 상담원 말투로, 사실·숫자·링크는 바꾸지 말고 자연스럽게 다듬어 "
    "주세요.",
    "en": "Rewrite as a friendly, concise customer-service agent. Keep every fact, "
    "number and link unchanged.",
}


class OpenAiRephraser:
    """POST {url}/chat/completions with a style instruction; returns the model's text (raises on failure)."""

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 3.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._client = client

    def rephrase(self, text: str, lang: str) -> str:
        """The model's rewording of `text` in `lang` ("ko" or "en")."""
        body = {
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": STYLE["en" if lang == "en" else "ko"]},
                {"role": "user", "content": text},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        url = f"{self.url}/chat/completions"
        if self._client is not None:
            resp = self._client.post(url, json=body, headers=headers, timeout=self.timeout)
        else:
            resp = httpx.post(url, json=body, headers=headers, timeout=self.timeout)
        resp.raise_for_status()
        return str(resp.json()["choices"][0]["message"]["content"]).strip()
