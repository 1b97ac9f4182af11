"""The man page and the shell completions cover every option of every subcommand.

The options are read from the parsers themselves (each ``cli/<name>.py``'s
``build_parser()`` for every name in ``__main__.SUBCOMMANDS``), so a new
subcommand or option is checked without touching these tests. The completions are run in a
real bash; the man page is rendered by man(1).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syscount import __main__ as entry
from syscount.__main__ import main
from syscount.cli import completion, manpage, reference
from syscount.cli.about import SHELLS


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Subcommand name → its parser, straight from the modules."""
    return {name: importlib.import_module(f"syscount.cli.{name}").build_parser() for name in entry.SUBCOMMANDS}


OTHERS = [name for name in entry.SUBCOMMANDS if name != entry.DEFAULT]


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    return [flag for action in parser._actions if action.help != argparse.SUPPRESS for flag in action.option_strings]


def test_every_subcommand_is_found() -> None:
    assert {"count", "serve", "trace", "doctor"} <= set(entry.SUBCOMMANDS) and entry.DEFAULT == "count"
    assert [command.name for command in reference.commands()] == [entry.DEFAULT, *OTHERS]


@pytest.fixture(scope="module")
def rendered_man_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    if shutil.which("man") is None:
        pytest.fail("man is not installed (apt-get install man-db)")
    page = tmp_path_factory.mktemp("man") / "syscount.1"
    assert manpage.main([str(page)]) == 0
    result = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        capture_output=True,
        text=True,
        env={**os.environ, "MANWIDTH": "200", "LC_ALL": "C.UTF-8"},
        check=True,
    )
    assert result.stderr == ""  # groff's warnings: bad requests, unescaped text
    return result.stdout


def test_man_page_has_every_option_of_every_subcommand(rendered_man_page: str) -> None:
    text = rendered_man_page
    sections = text.split("\nCOMMANDS\n")
    assert len(sections) == 2, "no COMMANDS section"
    main_part, commands_part = sections
    # Each subcommand's own subsection, up to the next one's heading.
    subsections = re.split(r"^   (syscount \w+)\n", commands_part.split("\nREQUIREMENTS\n")[0], flags=re.MULTILINE)
    parts = {entry.DEFAULT: main_part} | dict(zip(subsections[1::2], subsections[2::2], strict=True))
    assert list(parts) == [entry.DEFAULT, *(f"syscount {name}" for name in OTHERS)]
    for name, parser in parsers().items():
        part = parts[f"syscount {name}" if name != entry.DEFAULT else name]
        for flag in option_strings(parser):
            assert flag in part, f"{flag} of {parser.prog} is not in the man page"
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES", "REQUIREMENTS", "SEE ALSO"):
        assert f"\n{heading}\n" in text
    assert "syscount doctor" in text and "libbpf" in text


def test_man_page_escapes_roff() -> None:
    assert manpage.roff_escape(".starts a request\n'so does this\na-b \\n") == (
        "\\&.starts a request\n\\&'so does this\na\\-b \\en"
    )


# -- completions -------------------------------------------------------------------------------


def bash_complete(script: str, lines: list[list[str]]) -> list[list[str]]:
    """What the script offers for each command line (its last word is the one being completed)."""
    calls = []
    for words in lines:
        quoted = " ".join("'" + word + "'" for word in words)
        calls.append(
            f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _syscount; printf '%s ' \"${{COMPREPLY[@]}}\"; echo"
        )
    program = script + "\n" + "\n".join(calls) + "\n"
    result = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    return [line.split() for line in result.stdout.splitlines()]


def test_bash_completes_every_option_of_every_subcommand() -> None:
    script = completion.script("bash")
    lines: list[list[str]] = []
    expected: list[str] = []
    for name, parser in parsers().items():
        for flag in option_strings(parser):
            lines.append(["syscount", name, flag])
            expected.append(flag)
            if name == entry.DEFAULT:  # plain `syscount` is the default command
                lines.append(["syscount", flag])
                expected.append(flag)
    for offered, flag, line in zip(bash_complete(script, lines), expected, lines, strict=True):
        assert flag in offered, f"{' '.join(line)}: offered {offered}"


def test_bash_completes_subcommands_values_and_commands() -> None:
    offered = bash_complete(
        completion.script("bash"),
        [
            ["syscount", ""],
            ["syscount", "--form"],
            ["syscount", "--format", ""],
            ["syscount", "trace", "--format", ""],
            ["syscount", "serve", "--labels", ""],
            ["syscount", "--print-completion", ""],
            ["syscount", "-u", "roo"],
            ["syscount", "--", "bas"],
            ["syscount", "trace", "-s", "%file", "--", "sh", "/etc/host"],
        ],
    )
    assert offered[0] == list(entry.SUBCOMMANDS)
    assert offered[1] == ["--format"]
    assert offered[2] == ["text", "json", "csv"]
    assert offered[3] == ["text", "json"]
    assert offered[4] == ["comm", "cgroup"]
    assert offered[5] == list(SHELLS)
    assert "root" in offered[6]
    assert "bash" in offered[7]
    assert "/etc/hostname" in offered[8]


def test_zsh_script_names_every_option_and_parses() -> None:
    script = completion.script("zsh")
    for name, parser in parsers().items():
        function = script.split(f"_syscount_{name}() {{\n", 1)[1].split("\n}\n", 1)[0]
        for flag in option_strings(parser):
            assert f"]{flag}[" in function or f"'{flag}[" in function or f"){flag}[" in function, flag
    assert script.startswith("#compdef syscount\n")
    if shutil.which("zsh") is None:
        pytest.fail("zsh is not installed (apt-get install zsh)")
    subprocess.run(["zsh", "-n"], input=script, text=True, check=True)


def test_print_completion_prints_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    for shell in SHELLS:
        with pytest.raises(SystemExit) as done:
            main(["--print-completion", shell])
        assert done.value.code == 0
        assert capsys.readouterr().out == completion.script(shell)
    assert main(["--print-completion", "fish"]) == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err


# -- the parsers import without syscount's run-time dependencies (as at build time) -------------


def test_parsers_import_without_runtime_dependencies(tmp_path: Path) -> None:
    blocked = "import sys; sys.modules.update(prometheus_client=None, numpy=None)\n"
    program = (
        blocked
        + "import runpy, sys; sys.argv = ['manpage', sys.argv[1]]; "
        + ("runpy.run_module('syscount.cli.manpage', run_name='__main__')")
    )
    page = tmp_path / "syscount.1"
    result = subprocess.run([sys.executable, "-c", program, str(page)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "syscount serve" in page.read_text()
