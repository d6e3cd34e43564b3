"""Model names → backends.

Names arrive as ``models/X``, ``publishers/google/models/X``, ``projects/…/models/X`` or bare
``X``; all reduce to ``X``. Every ``gemini-*`` name is served by the default backend so existing
Live API code runs unchanged; a model map from the config overrides any name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError, ModelNotFound
from .llm.base import LLMBackend

__all__ = ["ModelRegistry", "ResolvedModel", "short_model_name"]


def short_model_name(name: str) -> str:
    """``models/X``, ``publishers/google/models/X``, ``projects/p/…/models/X`` → ``X``."""
    name = name.strip()
    if "/models/" in name:
        return name.rsplit("/models/", 1)[1]
    return name.removeprefix("models/")


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    name: str
    backend_name: str
    backend: LLMBackend


class ModelRegistry:
    def __init__(
        self,
        backends: dict[str, LLMBackend],
        default: str,
        aliases: dict[str, str] | None = None,
    ) -> None:
        if default not in backends:
            raise ConfigError(f"default engine {default!r} is not one of {sorted(backends)}")
        self.backends = backends
        self.default = default
        self.aliases = {short_model_name(k): v for k, v in (aliases or {}).items()}
        for name, target in self.aliases.items():
            if target not in backends:
                raise ConfigError(
                    f"model map sends {name!r} to engine {target!r}, which is not configured "
                    f"(configured: {', '.join(sorted(backends))})"
                )

    def resolve(self, raw: str, api_version: str) -> ResolvedModel:
        name = short_model_name(raw)
        if name in self.aliases:
            target = self.aliases[name]
        elif name in self.backends:
            target = name
        elif name.startswith("gemini-") or name == "default":
            target = self.default
        else:
            shown = name or "(empty)"
            raise ModelNotFound(
                f"models/{shown} is not found for API version {api_version}, "
                "or is not supported for bidiGenerateContent."
            )
        return ResolvedModel(name or target, target, self.backends[target])

    def listing(self) -> list[dict[str, object]]:
        """What ``GET /v1beta/models`` and ``openlive models`` show."""
        rows: list[dict[str, object]] = []
        for name, backend in self.backends.items():
            rows.append(
                {
                    "name": f"models/{name}",
                    "engine": name,
                    "default": name == self.default,
                    **backend.describe(),
                }
            )
        for alias, target in sorted(self.aliases.items()):
            rows.append({"name": f"models/{alias}", "engine": target, "default": False})
        rows.append({"name": "models/gemini-*", "engine": self.default, "default": False})
        return rows
