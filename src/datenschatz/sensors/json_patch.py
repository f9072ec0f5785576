"""A small RFC 6902 JSON Patch applier (add, remove, replace, move, copy, test)."""

from __future__ import annotations

import copy
from typing import Any

from datenschatz.errors import CheckFailed, InputError


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise InputError(f"JSON Patch path {path!r} must be a JSON Pointer such as /name.")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(document: Any, parts: list[str], path: str) -> tuple[Any, str]:
    if not parts:
        raise InputError("JSON Patch cannot replace the whole entity.", path=path)
    target = document
    for part in parts[:-1]:
        target = _child(target, part, path)
    return target, parts[-1]


def _child(container: Any, key: str, path: str) -> Any:
    if isinstance(container, dict) and key in container:
        return container[key]
    if isinstance(container, list) and key.isdigit() and int(key) < len(container):
        return container[int(key)]
    raise InputError(f"JSON Patch path {path} does not exist.", path=path)


def _get(document: Any, path: str) -> Any:
    target = document
    for part in _pointer(path):
        target = _child(target, part, path)
    return target


def _add(document: Any, path: str, value: Any) -> None:
    container, key = _parent(document, _pointer(path), path)
    if isinstance(container, dict):
        container[key] = value
    elif isinstance(container, list):
        if key == "-":
            container.append(value)
        elif key.isdigit() and int(key) <= len(container):
            container.insert(int(key), value)
        else:
            raise InputError(f"JSON Patch index in {path} is out of range.", path=path)
    else:
        raise InputError(f"JSON Patch path {path} does not point into an object.", path=path)


def _remove(document: Any, path: str) -> Any:
    container, key = _parent(document, _pointer(path), path)
    value = _child(container, key, path)
    if isinstance(container, dict):
        del container[key]
    else:
        del container[int(key)]
    return value


def apply_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    """A patched deep copy of ``document``; a failed ``test`` raises CheckFailed (422)."""
    if not isinstance(operations, list):
        raise InputError("A JSON Patch body must be a list of operations.")
    result = copy.deepcopy(document)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise InputError(f"JSON Patch operation {number} needs 'op' and 'path'.")
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise InputError(f"JSON Patch operation {number} ({op}) needs a 'value'.")
        if op in ("move", "copy") and "from" not in operation:
            raise InputError(f"JSON Patch operation {number} ({op}) needs a 'from'.")
        if op == "add":
            _add(result, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            _remove(result, path)
        elif op == "replace":
            _get(result, path)
            _remove(result, path)
            _add(result, path, copy.deepcopy(operation["value"]))
        elif op == "move":
            _add(result, path, _remove(result, operation["from"]))
        elif op == "copy":
            _add(result, path, copy.deepcopy(_get(result, operation["from"])))
        elif op == "test":
            if _get(result, path) != operation["value"]:
                raise CheckFailed(f"JSON Patch test failed at {path}.", path=path)
        else:
            raise InputError(f"Unknown JSON Patch operation {op!r}.")
    return result
