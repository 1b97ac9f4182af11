"""Entry point: dispatch to a subcommand; the only place that prints errors and picks exit statuses."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from .cli.common import ExitStatus, split_command
from .errors import SyscountError, UsageError

# Each is a module syscount.cli.<name> with build_parser(), parse(argv) and run(args).
# `syscount ARGS` is `syscount count ARGS`: counting is what syscount does by default.
SUBCOMMANDS = ("count", "trace", "serve", "seccomp", "doctor", "diff", "report", "top")
DEFAULT = "count"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    name, argv = (argv[0], argv[1:]) if argv and argv[0] in SUBCOMMANDS else (DEFAULT, argv)
    # Known before parsing, so that a parse error shows its traceback too.
    debug = "--debug" in split_command(argv)[0]
    try:
        module = importlib.import_module(f".cli.{name}", __package__)
        args = module.parse(argv)
        debug = debug or bool(getattr(args, "debug", False))  # also --deb, as argparse allows
        if debug:
            _echo_libbpf()
        status: int = module.run(args)
        return status
    except SyscountError as exc:
        if debug:
            raise
        _error(str(exc))
        return ExitStatus.USAGE if isinstance(exc, UsageError) else ExitStatus.ERROR
    except KeyboardInterrupt:
        # Only reachable before the run loop installs its own handlers.
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # e.g. `syscount | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not complain, and say nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitStatus.ERROR
    except OSError as exc:
        if debug:
            raise
        context = "".join(f"{note}: " for note in getattr(exc, "__notes__", ()))  # e.g. the libbpf step
        _error(context + f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return ExitStatus.ERROR


def _error(message: str) -> None:
    sys.stderr.write(f"syscount: error: {message}\n")


def _echo_libbpf() -> None:
    from .kernel.objects import LIBBPF_LOG

    def echo(text: str) -> None:
        sys.stderr.write(f"libbpf: {text}")

    LIBBPF_LOG.echo = echo


if __name__ == "__main__":
    sys.exit(main())
