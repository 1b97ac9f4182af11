"""Entry point: the only place that prints errors and picks exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from .errors import SyscountError, UsageError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[: argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        if argv and argv[0] in SUBCOMMANDS:
            if debug:
                _echo_libbpf()
            return _subcommand(argv[0], argv[1:])
        from .cli import args, count

        parsed = args.parse(argv)
        if parsed.debug:
            _echo_libbpf()
        return count.run(parsed)
    except SyscountError as exc:
        if debug:
            raise
        _error(str(exc))
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except KeyboardInterrupt:
        # Only reachable before the run loop installs its own handlers.
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # e.g. `syscount | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not complain, and say nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except OSError as exc:
        if debug:
            raise
        context = "".join(f"{note}: " for note in getattr(exc, "__notes__", ()))  # e.g. the libbpf step
        _error(context + f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""))
        return EXIT_ERROR


# `syscount serve ...` (Prometheus exporter) and `syscount trace ...` (event stream):
# each is a module syscount.cli.<name> with `main(argv) -> int`. Plain `syscount ...`
# is the count command.
SUBCOMMANDS = ("serve", "trace")


def _subcommand(name: str, argv: list[str]) -> int:
    import importlib

    module = importlib.import_module(f".cli.{name}", __package__)
    status: int = module.main(argv)
    return status


def _error(message: str) -> None:
    sys.stderr.write(f"syscount: error: {message}\n")


def _echo_libbpf() -> None:
    from .kernel.objects import LIBBPF_LOG

    def echo(text: str) -> None:
        sys.stderr.write(f"libbpf: {text}")

    LIBBPF_LOG.echo = echo


if __name__ == "__main__":
    sys.exit(main())
