"""Function declarations: read, checked and normalized to JSON Schema; calls checked against
them.

``setup.tools[].functionDeclarations`` arrive with ``parameters`` in the OpenAPI subset the SDKs
send (``"type": "OBJECT"`` or ``"object"``, ``nullable``, ``enum``, ``items``, ``required``) or
with ``parametersJsonSchema``. Each becomes a :class:`ToolSpec` whose parameters are plain JSON
Schema, which engines take as it is; ``behavior`` is ``BLOCKING`` (the default, also
``UNSPECIFIED``) or ``NON_BLOCKING``, in either case. A declaration openlive cannot honour
closes the session with 1007 and a reason naming the function and the problem.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidArgument
from ..types import Setup, Tool
from .events import ToolSpec

__all__ = ["allowed_tools", "check_arguments", "declared_tools", "normalize_schema"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
_BUILTIN = {
    "google_search": "googleSearch",
    "google_search_retrieval": "googleSearchRetrieval",
    "code_execution": "codeExecution",
    "url_context": "urlContext",
    "google_maps": "googleMaps",
    "computer_use": "computerUse",
    "file_search": "fileSearch",
    "mcp_servers": "mcpServers",
    "retrieval": "retrieval",
    "enterprise_web_search": "enterpriseWebSearch",
}
_MODES = {"AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"}


def declared_tools(tools: list[Tool] | None) -> tuple[ToolSpec, ...]:
    """The functions of ``setup.tools`` (or ``contextUpdate.tools``); 1007 for anything
    openlive cannot run or a declaration that is not valid."""
    specs: list[ToolSpec] = []
    for i, tool in enumerate(tools or []):
        for field, wire in _BUILTIN.items():
            if getattr(tool, field) not in (None, []):
                raise InvalidArgument(
                    f"tools[{i}].{wire} is a Google-hosted tool that openlive cannot run; "
                    "declare functionDeclarations and answer them with toolResponse"
                )
        for declaration in tool.function_declarations or []:
            name = declaration.name
            if not _NAME.match(name or ""):
                raise InvalidArgument(
                    f"function name {name!r} is not valid: letters, digits, _ . - "
                    "(at most 64, not starting with a digit)"
                )
            if any(spec.name == name for spec in specs):
                raise InvalidArgument(f"function {name} is declared twice")
            behavior = (declaration.behavior or "BLOCKING").upper()
            if behavior not in ("BLOCKING", "NON_BLOCKING", "UNSPECIFIED"):
                raise InvalidArgument(
                    f"function {name}: behavior {declaration.behavior} is not one of "
                    "BLOCKING (the default), NON_BLOCKING"
                )
            if declaration.parameters is not None and declaration.parameters_json_schema:
                raise InvalidArgument(
                    f"function {name}: give parameters or parametersJsonSchema, not both"
                )
            raw = declaration.parameters or declaration.parameters_json_schema
            parameters = None
            if raw:
                if not isinstance(raw, dict):
                    raise InvalidArgument(f"function {name}: parameters must be an object schema")
                parameters = normalize_schema(raw, f"function {name}: parameters")
                if parameters.get("type") not in ("object", None):
                    raise InvalidArgument(
                        f"function {name}: parameters must have type OBJECT, not {raw.get('type')}"
                    )
            specs.append(
                ToolSpec(
                    name,
                    declaration.description or "",
                    parameters,
                    blocking=behavior != "NON_BLOCKING",
                )
            )
    return tuple(specs)


def normalize_schema(schema: dict[str, Any], where: str) -> dict[str, Any]:
    """An OpenAPI-subset schema (either casing) as JSON Schema; 1007 for an unknown type."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            kinds = value if isinstance(value, list) else [value]
            lowered = [str(k).lower() for k in kinds if str(k).upper() != "TYPE_UNSPECIFIED"]
            for kind in lowered:
                if kind not in _TYPES:
                    raise InvalidArgument(f"{where}: type {kind.upper()} is not a schema type")
            if lowered:
                out["type"] = lowered[0] if len(lowered) == 1 else lowered
        elif key == "properties":
            if not isinstance(value, dict):
                raise InvalidArgument(f"{where}: properties must be an object")
            out["properties"] = {
                k: normalize_schema(v, f"{where}.{k}") if isinstance(v, dict) else v
                for k, v in value.items()
            }
        elif key == "items" and isinstance(value, dict):
            out["items"] = normalize_schema(value, f"{where}[]")
        elif key in ("anyOf", "any_of") and isinstance(value, list):
            out["anyOf"] = [normalize_schema(v, where) for v in value if isinstance(v, dict)]
        elif key == "nullable":
            continue
        elif key == "required":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidArgument(f"{where}: required must be a list of property names")
            missing = [v for v in value if v not in schema.get("properties", {})]
            if missing:
                raise InvalidArgument(f"{where}: required names unknown properties {missing}")
            out["required"] = value
        else:
            out[_camel(key)] = value
    if schema.get("nullable") and "type" in out:
        kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*kinds, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def allowed_tools(setup: Setup, tools: tuple[ToolSpec, ...]) -> tuple[tuple[ToolSpec, ...], str]:
    """The functions the model may call now, and the mode (``toolConfig``):
    ``NONE`` offers none, ``allowedFunctionNames`` narrows the list."""
    config = (setup.tool_config or {}).get("functionCallingConfig") or (
        setup.tool_config or {}
    ).get("function_calling_config")
    config = config or {}
    mode = str(config.get("mode") or "AUTO").upper()
    if mode not in _MODES:
        raise InvalidArgument(
            f"toolConfig.functionCallingConfig.mode {mode} is not one of AUTO, ANY, NONE, VALIDATED"
        )
    if mode == "NONE":
        return (), mode
    names = config.get("allowedFunctionNames") or config.get("allowed_function_names")
    if names:
        unknown = [n for n in names if not any(t.name == n for t in tools)]
        if unknown:
            raise InvalidArgument(f"toolConfig allowedFunctionNames {unknown} are not declared")
        tools = tuple(t for t in tools if t.name in names)
    return tools, mode


def check_arguments(schema: dict[str, Any] | None, args: Any, where: str = "args") -> str | None:
    """Why ``args`` does not satisfy ``schema`` (types, required, enum, nested), or ``None``."""
    if not schema:
        return None if args in ({}, None) or isinstance(args, dict) else f"{where} is not an object"
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if kinds else []
    if kinds and not any(_is(kind, args) for kind in kinds):
        return f"{where} should be {'/'.join(kinds)}, not {type(args).__name__}"
    if "enum" in schema and args not in schema["enum"]:
        return f"{where} should be one of {schema['enum']}"
    if isinstance(args, dict):
        for name in schema.get("required", []):
            if name not in args:
                return f"{where}.{name} is required"
        properties = schema.get("properties", {})
        for name, value in args.items():
            if name in properties:
                problem = check_arguments(properties[name], value, f"{where}.{name}")
                if problem:
                    return problem
    if isinstance(args, list) and isinstance(schema.get("items"), dict):
        for i, value in enumerate(args):
            problem = check_arguments(schema["items"], value, f"{where}[{i}]")
            if problem:
                return problem
    return None


def _is(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
        "null": value is None,
    }.get(kind, True)
