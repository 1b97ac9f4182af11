"""Pieces every syscount command's argument parser shares."""

from __future__ import annotations

import argparse
import math

from ..errors import UsageError


class OneLineParser(argparse.ArgumentParser):
    """Bad input is one line (no usage dump); __main__ adds the "syscount: error:" prefix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < math.inf:  # also rejects nan
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def whole_number(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return int(text)
