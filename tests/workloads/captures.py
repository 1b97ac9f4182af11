"""A workload whose buffers, addresses and times are known exactly (for syscount trace's captures).

    python3 captures.py

Writes "hello\\n" into a pipe and reads it back (64-byte read), writes hostile bytes
and 40 bytes (cut at -s) into another pipe, connects a TCP socket on loopback and
sends/receives through it (sendto/recvfrom, sendmsg/recvmsg, writev/readv), binds an
AF_UNIX datagram socket to an abstract name, sleeps 10 ms through glibc's nanosleep
(clock_nanosleep with {0, 10000000}), reads RLIMIT_NOFILE, and polls one pipe.
Prints the listening port on stdout: PORT <n>.
"""

import ctypes
import os
import select
import socket
import sys


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def main() -> None:
    r, w = os.pipe()
    os.write(w, b"hello\n")
    os.read(r, 64)
    os.write(w, b"\x1b[31mred\x00\xff\n")
    os.read(r, 64)
    os.write(w, b"0123456789" * 4)
    os.read(r, 64)

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    peer, _ = server.accept()
    client.send(b"ping")
    peer.recv(100)
    client.sendmsg([b"ab", b"cd"])
    peer.recvmsg(100)
    os.writev(client.fileno(), [b"xy", b"z"])
    buffers = [bytearray(2), bytearray(8)]
    os.readv(peer.fileno(), buffers)

    unix = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    unix.bind(b"\0syscount-captures")

    libc = ctypes.CDLL(None, use_errno=True)
    libc.nanosleep(ctypes.byref(Timespec(0, 10_000_000)), None)

    poller = select.poll()
    poller.register(r, select.POLLIN)
    os.write(w, b"!")
    poller.poll(1000)

    import resource

    resource.getrlimit(resource.RLIMIT_NOFILE)
    sys.stdout.write(f"PORT {port}\n")


main()
