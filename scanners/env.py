"""Typed values from environment variables: one rule for ``readiness/settings.py`` and ``archcheck``.

Both read the same variables (the README's configuration table), so an integer or a boolean must
be accepted and refused alike by the dashboard and by ``python -m scanners``. An unset or empty
variable takes its default; anything else malformed is :class:`ValueError` naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["comma_list", "env_bool", "env_int", "key_values"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    value = environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    value = environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def comma_list(value: str) -> list[str]:
    """``"a,b,,c"`` → ``["a", "b", "c"]``: a list setting, empty items dropped."""
    return [item for item in value.split(",") if item]


def key_values(value: str) -> dict[str, str]:
    """``"a=1,b=2"`` → ``{"a": "1", "b": "2"}``: a map setting, items without ``=`` dropped."""
    return dict(item.split("=", 1) for item in value.split(",") if "=" in item)
