"""Build hook: building syscount (a wheel, ``pip install .``) compiles its BPF programs and
writes its man page. The project's metadata is in pyproject.toml; only this hook is here.

- The objects of every supported machine go into the build directory, as
  ``syscount/bpf/<machine>/<stem>.bpf.o`` (tools/build_bpf.py, the same tool ``make bpf``
  uses for a clone), so the wheel is one ``py3-none-any`` for x86_64 and aarch64.
- syscount.1 is generated from the parsers (syscount.cli.manpage) and installed as a data
  file, in ``share/man/man1`` of wherever the wheel is installed.
- An editable install (``pip install -e``, the development venv) builds neither: there
  ``make bpf`` builds the objects in the source tree, where the package is loaded from.
"""

from __future__ import annotations

import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "tools"))

import build_bpf  # noqa: E402  (tools/ is put on the path just above)

MAN_SECTION = os.path.join("share", "man", "man1")


class BuildWithBpf(build_py):
    """``build_py``, then the BPF objects and the man page."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        source_dir = os.path.join(HERE, "src", "syscount", "bpf")
        try:
            build_bpf.build(source_dir, os.path.join(self.build_lib, "syscount", "bpf"))
        except build_bpf.BuildError as exc:
            raise SetupError(f"syscount: {exc}") from None
        self._man_page()

    def _man_page(self) -> None:
        build_base = self.get_finalized_command("build").build_base
        page = os.path.join(build_base, "man", "syscount.1")
        os.makedirs(os.path.dirname(page), exist_ok=True)
        # A separate interpreter on the built tree: the parsers are read as installed.
        env = {**os.environ, "PYTHONPATH": self.build_lib}
        result = subprocess.run(
            [sys.executable, "-m", "syscount.cli.manpage", page], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SetupError(f"syscount: generating the man page failed:\n{result.stderr}")
        # Declared here, once the page exists: install_data runs after the build.
        self.distribution.data_files = [(MAN_SECTION, [page])]


setup(cmdclass={"build_py": BuildWithBpf})
