"""Four threads, each writing a file of its own and reading it back."""

import os
import sys
import tempfile
import threading

directory = tempfile.mkdtemp(prefix="fidelity-threads-")


def work(n: int) -> None:
    path = os.path.join(directory, f"t{n}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"thread %d\n" % n)
    os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    os.read(fd, 64)
    os.close(fd)
    os.unlink(path)


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
os.rmdir(directory)
sys.exit(0)
