"""Shared state: what every node of an openlive deployment must see alike.

Session snapshots and resumption handles, ephemeral tokens and their use counts, rate
counters. :class:`MemoryStore` keeps them in the process (one node, the default);
:class:`RedisStore` keeps them in Redis, so that any node can resume any session and redeem
any token. :func:`open_store` builds one from a URL (``memory://`` or ``redis://HOST:PORT/DB``).
"""

from .base import Store, open_store
from .memory import MemoryStore
from .redis import RedisStore

__all__ = ["MemoryStore", "RedisStore", "Store", "open_store"]
