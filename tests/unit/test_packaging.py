"""Building syscount: the BPF build tool, the wheel from a clean clone, --version.

The wheel tests build from a `git clone` of this repository (what is committed, nothing
a developer's tree happens to hold), the way a user would: `pip wheel .` and `pip install .`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from syscount import __version__
from syscount.__main__ import main
from syscount.kernel import libbpf
from tests.unit.tool_scripts import REPO, load_tool

build_bpf = load_tool("build_bpf")
MACHINES = ("x86_64", "aarch64")


# -- tools/build_bpf.py --------------------------------------------------------------------------


def test_without_clang_one_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nowhere to find clang
    monkeypatch.delenv("CLANG", raising=False)
    assert build_bpf.main([str(REPO / "src" / "syscount" / "bpf"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("build_bpf: error: clang not found: ") and "apt-get install clang" in err
    assert not list(tmp_path.rglob("*.o"))


def test_missing_headers_name_the_package_to_install() -> None:
    target = build_bpf.Target("riscv64", "riscv", "riscv64-linux-gnu", "linux-libc-dev-riscv64-cross")
    with pytest.raises(build_bpf.BuildError, match=r"install linux-libc-dev \(on riscv64\) or linux-libc-dev-riscv64"):
        build_bpf.include_dir(target)


def test_every_machine_is_built_and_only_what_changed_is_rebuilt(tmp_path: Path) -> None:
    sources = tmp_path / "bpf"
    sources.mkdir()
    for path in (REPO / "src" / "syscount" / "bpf").glob("*.[ch]"):
        (sources / path.name).write_bytes(path.read_bytes())
    stems = sorted(path.name.removesuffix(".bpf.c") for path in sources.glob("*.bpf.c"))
    outputs = build_bpf.build(str(sources), str(tmp_path / "out"))
    assert sorted(outputs) == sorted(str(tmp_path / "out" / m / f"{s}.bpf.o") for m in MACHINES for s in stems)
    built = {path: os.stat(path).st_mtime_ns for path in outputs}
    build_bpf.build(str(sources), str(tmp_path / "out"))
    assert {path: os.stat(path).st_mtime_ns for path in outputs} == built  # nothing was out of date
    future = max(built.values()) + 10**9
    os.utime(sources / "track.bpf.c", ns=(future, future))
    build_bpf.build(str(sources), str(tmp_path / "out"))
    changed = {path for path in outputs if os.stat(path).st_mtime_ns != built[path]}
    assert changed == {str(tmp_path / "out" / machine / "track.bpf.o") for machine in MACHINES}


# -- the wheel, from a clean clone ---------------------------------------------------------------


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("clone") / "syscount"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(where)], check=True)
    return where


def pip(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )


def expected_wheel_files(clone: Path) -> set[str]:
    package = clone / "src" / "syscount"
    files = {str(path.relative_to(package.parent)) for path in package.rglob("*.py")}
    files |= {f"syscount/bpf/{path.name}" for path in (package / "bpf").glob("*.[ch]")}
    stems = [path.name.removesuffix(".bpf.c") for path in (package / "bpf").glob("*.bpf.c")]
    files |= {f"syscount/bpf/{machine}/{stem}.bpf.o" for machine in MACHINES for stem in stems}
    info = f"syscount-{__version__}.dist-info"
    files |= {f"{info}/{name}" for name in ("METADATA", "WHEEL", "entry_points.txt", "top_level.txt", "RECORD")}
    return files | {f"syscount-{__version__}.data/data/share/man/man1/syscount.1"}


def test_pip_wheel_from_a_clean_clone_carries_both_machines_objects(clone: Path, tmp_path: Path) -> None:
    result = pip("wheel", "--no-deps", "--wheel-dir", str(tmp_path), str(clone))
    assert result.returncode == 0, result.stderr
    wheel = tmp_path / f"syscount-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert names == expected_wheel_files(clone)  # both machines' objects, and nothing stray
        tags = archive.read(f"syscount-{__version__}.dist-info/WHEEL").decode()
        page = archive.read(f"syscount-{__version__}.data/data/share/man/man1/syscount.1").decode()
        objects = {name: archive.read(name) for name in names if name.endswith(".bpf.o")}
    assert "Tag: py3-none-any" in tags and "Root-Is-Purelib: true" in tags
    assert page.startswith(".TH SYSCOUNT 1") and "syscount doctor" in page
    for name, data in objects.items():
        assert data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == 247, name  # EM_BPF


def test_pip_install_from_a_clean_clone_installs_the_objects(clone: Path, tmp_path: Path) -> None:
    result = pip("install", "--no-deps", "--target", str(tmp_path), str(clone))
    assert result.returncode == 0, result.stderr
    for machine in MACHINES:
        assert (tmp_path / "syscount" / "bpf" / machine / "counts.bpf.o").is_file()


def test_building_without_clang_fails_with_one_clear_message(clone: Path, tmp_path: Path) -> None:
    env = {**os.environ, "CLANG": "clang-is-not-here"}
    result = pip("wheel", "--no-deps", "--wheel-dir", str(tmp_path), str(clone), env=env)
    assert result.returncode != 0
    assert "syscount: clang-is-not-here not found: the BPF programs are compiled with clang" in result.stderr
    assert "apt-get install clang" in result.stderr
    assert not list(tmp_path.glob("*.whl"))


# -- --version ---------------------------------------------------------------------------------


def loaded_libbpf_file() -> str:
    """The libbpf file this process mapped (libbpf.so.1 → libbpf.so.1.1.0, say)."""
    libbpf.lib()
    maps = Path("/proc/self/maps").read_text()
    found = re.search(r"(\S*/libbpf\.so\.[\d.]+)$", maps, re.MULTILINE)
    assert found is not None
    return os.path.basename(found.group(1))


def test_version_shows_syscount_and_the_libbpf_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out == f"syscount {__version__} (libbpf {libbpf.version()}, {os.uname().machine})\n"
    major_minor = re.fullmatch(r"libbpf\.so\.(\d+)\.(\d+)\.\d+", loaded_libbpf_file())
    assert major_minor is not None
    assert libbpf.version() == f"v{major_minor.group(1)}.{major_minor.group(2)}"


def test_without_libbpf_version_and_errors_say_what_to_install() -> None:
    program = (
        "import sys\n"
        "from syscount.kernel import libbpf, probes\n"
        "libbpf.LIBBPF_SONAME = probes.LIBBPF_SONAME = 'libbpf.so.999'\n"
        "from syscount.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    version = subprocess.run([sys.executable, "-c", program, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0
    assert (
        version.stdout
        == f"syscount {__version__} (libbpf.so.999 not found: apt-get install libbpf1, {os.uname().machine})\n"
    )
    count = subprocess.run([sys.executable, "-c", program, "-d", "1"], capture_output=True, text=True, check=False)
    assert count.returncode == 1 and count.stderr.count("\n") == 1
    assert count.stderr.startswith("syscount: error: ") and "`sudo syscount doctor` checks" in count.stderr
    doctor = subprocess.run([sys.executable, "-c", program, "doctor"], capture_output=True, text=True, check=False)
    assert doctor.returncode == 1, doctor.stderr
    assert re.search(r"^libbpf +FAIL +libbpf\.so\.999 not found\n +fix: apt-get install libbpf1", doctor.stdout, re.M)
    assert re.search(r"^kernel BTF +skip ", doctor.stdout, re.M)
