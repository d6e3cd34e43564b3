"""Regenerate the tables in docs/configuration.md and docs/protocol.md from the code.

python scripts/gen_docs.py
"""

from __future__ import annotations

import re
from dataclasses import MISSING, fields
from pathlib import Path

from openlive.server.config import FLAGLESS, SETTINGS, ServerConfig
from openlive.session.features import FIELD_TREATMENT

DOCS = Path(__file__).resolve().parents[1] / "docs"


def settings_table() -> str:
    rows = ["| setting | environment | flag | default | meaning |", "|---|---|---|---|---|"]
    for f in fields(ServerConfig):
        default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
        shown = "unset" if default is None else "none" if default in ([], {}) else default
        if f.name == "api_keys":
            flag = "`--api-key` (repeatable)"
        elif f.name in FLAGLESS:
            flag = "(file or env)"
        else:
            flag = f"`--{f.name.replace('_', '-')}`"
        rows.append(
            f"| `{f.name}` | `OPENLIVE_{f.name.upper()}` | {flag} | {shown} | {SETTINGS[f.name]} |"
        )
    return "\n".join(rows)


def fields_table() -> str:
    rows = ["| field | treatment |", "|---|---|"]
    rows += [f"| `{path}` | {t.value} |" for path, t in FIELD_TREATMENT.items()]
    return "\n".join(rows)


def splice(path: Path, name: str, table: str) -> None:
    text = path.read_text()
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path}: markers for {name} are missing")
    path.write_text(pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text))


if __name__ == "__main__":
    splice(DOCS / "configuration.md", "settings", settings_table())
    splice(DOCS / "protocol.md", "fields", fields_table())
