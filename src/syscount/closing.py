"""Closing: a resource whose ``with`` block ends in ``close()``, however the block ends.

Every kernel resource, file and server in syscount is one: leaving the block normally,
by an exception or by a signal turned into one runs the same teardown. ``close()`` is
that teardown; the subclasses that open in ``__enter__`` override it too.
"""

from __future__ import annotations

from typing import Self


class Closing:
    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
