"""File I/O and a subprocess in the directory given: write, read back, seek, stat, rename, remove; run `true`."""

import os
import subprocess
import sys

directory = os.path.join(sys.argv[1], "io")
os.mkdir(directory)
path = os.path.join(directory, "data.txt")
with open(path, "w") as f:
    f.write("hello fidelity\n" * 4)
with open(path, "rb") as f:
    f.seek(6)
    head = f.read(8)
os.stat(path)
os.rename(path, path + ".old")
os.unlink(path + ".old")
os.rmdir(directory)
status = subprocess.run(["true"], check=False).returncode
sys.exit(0 if head == b"fidelity" and status == 0 else 1)
