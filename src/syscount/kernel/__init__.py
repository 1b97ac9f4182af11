"""The kernel layer: the only code that touches libbpf, mmap and struct layouts.

``libbpf`` binds libbpf.so.1 through ctypes (the only ctypes module), ``objects`` turns
one compiled ``.bpf.o`` into a context manager, ``ringbuf`` consumes a BPF ring buffer
through its own mapping, ``layout`` gives Python the shared headers' constants and
struct layouts, checked against the compiled objects.
"""
