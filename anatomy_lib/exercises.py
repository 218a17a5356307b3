"""Helpers for graded exercises (the course kit in ``course/``): forbid library shortcuts.

An exercise that asks for, say, Eq. 1 must not be answered by calling
:func:`anatomy_lib.bones.bones_to_joints`. :func:`forbid_calls` watches every Python call
made inside a ``with`` block (through :func:`sys.setprofile`) and raises
:class:`ForbiddenCallError` at the end of the block if one of the listed functions ran,
however it was imported or aliased. The tests of the course kit run the learner's function
inside it, so a shortcut fails its test and scores zero.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

__all__ = ["ForbiddenCallError", "forbid_calls"]


class ForbiddenCallError(AssertionError):
    """A function that the exercise asks you to write yourself was called."""


def _code_of(function: Any) -> CodeType:
    """The code object run by ``function`` (plain, bound, static, wrapped or a property)."""
    if isinstance(function, property):
        function = function.fget
    if isinstance(function, staticmethod | classmethod):
        function = function.__func__
    function = inspect.unwrap(getattr(function, "__func__", function))
    code = getattr(function, "__code__", None)
    if not isinstance(code, CodeType):
        raise TypeError(
            f"forbid_calls: expected Python functions or methods, got {function!r} "
            f"({type(function).__name__}), which has no Python code to watch"
        )
    return code


@contextmanager
def forbid_calls(*functions: Callable | property) -> Iterator[None]:
    """Fail if any of ``functions`` is called inside the ``with`` block.

    Args:
        functions: Python functions, methods (``Skeleton.path_matrix``) or properties.

    Raises:
        ForbiddenCallError: on leaving the block, naming the functions that were called.
        TypeError: a listed object is not a Python function (a builtin, a class).
    """
    if not functions:
        raise TypeError("forbid_calls: expected at least one function to forbid, got none")
    watched = {_code_of(f): f"{_code_of(f).co_name} ({_code_of(f).co_filename})" for f in functions}
    called: list[str] = []

    def profile(frame, event: str, arg) -> None:  # noqa: ARG001 (sys.setprofile signature)
        if event == "call" and frame.f_code in watched:
            name = watched[frame.f_code]
            if name not in called:
                called.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)
        if called:
            names = ", ".join(n.split(" (")[0] for n in called)
            raise ForbiddenCallError(
                f"this exercise asks you to write it yourself, but your code called {names}"
            )
