"""Function tools for the SDK: declarations from Python functions, and an automatic loop that
answers a session's tool calls by calling them.

::

    def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
        \"\"\"Current weather for a city.\"\"\"
        ...

    tools = Tools(get_weather)
    async with client.aio.live.connect(model=..., config={"tools": tools.config()}) as session:
        session.use_tools(tools)        # calls are answered as they come
        await session.send_client_content(turns="Weather in Tokyo?")
        async for message in session.receive(): ...
"""

from __future__ import annotations

import asyncio
import inspect
import types
import typing
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Union, get_args, get_origin

from ..types import FunctionCall, FunctionResponse

__all__ = ["Tools", "declaration_from_function", "declaration_from_schema"]

_SIMPLE = {str: "STRING", int: "INTEGER", float: "NUMBER", bool: "BOOLEAN"}


def declaration_from_schema(
    name: str, description: str = "", parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``functionDeclarations`` entry from a JSON schema of the parameters."""
    declaration: dict[str, Any] = {"name": name, "description": description}
    if parameters is not None:
        declaration["parametersJsonSchema"] = parameters
    return declaration


def declaration_from_function(fn: Callable[..., Any]) -> dict[str, Any]:
    """A ``functionDeclarations`` entry from a function's signature (type hints: str, int,
    float, bool, list[...], dict, Literal[...], Optional[...]) and docstring."""
    hints = typing.get_type_hints(fn)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, parameter in inspect.signature(fn).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        properties[name] = _schema(hints.get(name, str), f"{fn.__name__}({name})")
        if parameter.default is parameter.empty:
            required.append(name)
    parameters: dict[str, Any] = {"type": "OBJECT", "properties": properties}
    if required:
        parameters["required"] = required
    doc = inspect.getdoc(fn) or ""
    return {"name": fn.__name__, "description": doc.split("\n\n")[0], "parameters": parameters}


def _schema(hint: Any, where: str) -> dict[str, Any]:
    origin, args = get_origin(hint), get_args(hint)
    if hint in _SIMPLE:
        return {"type": _SIMPLE[hint]}
    if origin is Literal:
        return {"type": _SIMPLE.get(type(args[0]), "STRING"), "enum": list(args)}
    if origin in (Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return {**_schema(rest[0], where), "nullable": True}
    if origin is list or hint is list:
        return {"type": "ARRAY", "items": _schema(args[0], where) if args else {}}
    if origin is dict or hint is dict:
        return {"type": "OBJECT"}
    raise TypeError(f"{where}: cannot declare a parameter of type {hint!r}")


class Tools:
    """Python callables (sync or async) the session calls for the model.

    A call runs at most ``timeout`` seconds; its result is sent as ``{"output": result}``, an
    exception as ``{"error": "..."}``. A ``toolCallCancellation`` cancels the calls it names
    (a sync function already running on its thread finishes, and its result is dropped).
    """

    def __init__(self, *functions: Callable[..., Any], timeout: float = 30.0) -> None:
        self.functions = {fn.__name__: fn for fn in functions}
        self.timeout = timeout

    def declarations(self) -> list[dict[str, Any]]:
        return [declaration_from_function(fn) for fn in self.functions.values()]

    def config(self) -> list[dict[str, Any]]:
        """The value for ``config["tools"]``."""
        return [{"function_declarations": self.declarations()}]

    async def call(self, call: FunctionCall) -> FunctionResponse:
        fn = self.functions.get(call.name)
        try:
            if fn is None:
                raise LookupError(f"no function {call.name} is registered")
            args = dict(call.args or {})
            if inspect.iscoroutinefunction(fn):
                pending: Awaitable[Any] = fn(**args)
            else:
                pending = asyncio.to_thread(fn, **args)
            result = await asyncio.wait_for(pending, self.timeout)
            response: dict[str, Any] = {"output": result}
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the model hears about it; the session goes on
            response = {"error": f"{type(exc).__name__}: {exc}"}
        return FunctionResponse(id=call.id, name=call.name, response=response)
