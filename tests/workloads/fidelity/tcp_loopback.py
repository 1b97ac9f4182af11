"""A loopback TCP server (a child process) and client."""

import os
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(1)
port = server.getsockname()[1]
pid = os.fork()
if pid == 0:
    conn, _ = server.accept()
    data = conn.recv(64)
    conn.sendall(data.upper())
    conn.close()
    os._exit(0)
server.close()
client = socket.create_connection(("127.0.0.1", port))
client.sendall(b"hello\n")
reply = client.recv(64)
client.close()
os.waitpid(pid, 0)
sys.exit(0 if reply == b"HELLO\n" else 1)
