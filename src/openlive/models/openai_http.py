"""What every OpenAI-compatible remote backend shares: the base URL and an HTTP client."""

from __future__ import annotations

import httpx

__all__ = ["base_v1", "client_headers", "sync_client"]


def base_v1(url: str) -> str:
    """``http://host:8000`` or ``http://host:8000/v1`` → ``http://host:8000/v1``."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def client_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def sync_client(api_key: str | None, timeout: float) -> httpx.Client:
    return httpx.Client(headers=client_headers(api_key), timeout=timeout)
