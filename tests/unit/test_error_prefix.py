"""A kernel-layer failure is prefixed once with what was being done."""

from __future__ import annotations

import errno
import os

from syscount.kernel import libbpf
from syscount.kernel.objects import BpfObject


def test_a_load_error_names_the_object_once() -> None:
    try:
        libbpf.object_load(0)  # NULL object: libbpf refuses it
    except OSError as exc:
        failure = exc
    else:
        raise AssertionError("libbpf loaded a NULL object")
    message = str(BpfObject("counts")._load_error(failure))
    assert message.startswith("loading counts.bpf.o: ")
    assert message.count("loading") == 1, message
    assert failure.strerror == os.strerror(failure.errno or errno.EINVAL)
