"""Four threads, one after the other, each writing a file of its own in the directory given and reading it back."""

import os
import sys
import threading

directory = sys.argv[1]


def work(n: int) -> None:
    path = os.path.join(directory, f"t{n}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"thread %d\n" % n)
    os.close(fd)
    fd = os.open(path, os.O_RDONLY)
    os.read(fd, 64)
    os.close(fd)
    os.unlink(path)


# One at a time: the order of calls within each thread is then the same in every run.
for n in range(4):
    thread = threading.Thread(target=work, args=(n,))
    thread.start()
    thread.join()
sys.exit(0)
