"""The public API: every package lists it in a sorted ``__all__`` whose names exist."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import openlive

MODULES = sorted(
    {m.name for m in pkgutil.walk_packages(openlive.__path__, "openlive.")}
    - {"openlive.cli.main", "openlive.weights.__main__"}
    | {"openlive"}
)


def _isort(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest (ruff's RUF022 order)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    if name.endswith("llm.llama"):
        pytest.importorskip("llama_cpp")
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert name.startswith("openlive.cli"), f"{name} has no __all__"
        return
    assert list(exported) == sorted(exported, key=_isort), f"{name}.__all__ is not sorted"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"


def test_top_level_surface() -> None:
    for name in ("Client", "AsyncSession", "LiveConnectionClosed", "OpenliveError", "__version__"):
        assert name in openlive.__all__
