"""Servicers for services whose issue has not landed: every RPC answers UNIMPLEMENTED."""

from __future__ import annotations

import inspect
from typing import Any, NoReturn

from maestro_grpc.errors import Unimplemented


def unimplemented_servicer(base: type, issue: str) -> Any:
    """An instance of `base` (a generated *Servicer) whose every RPC raises Unimplemented."""

    def make(name: str) -> Any:
        async def method(self: Any, request: Any, context: Any) -> NoReturn:
            raise Unimplemented(f"{name} is not implemented yet; it lands with {issue}")

        method.__name__ = name
        return method

    methods = {
        name: make(name)
        for name, fn in inspect.getmembers(base, inspect.isfunction)
        if not name.startswith("_")
    }
    return type(f"Unimplemented{base.__name__}", (base,), methods)()
