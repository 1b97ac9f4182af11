"""The kernel layer: the only code that touches libbpf, libseccomp, mmap and struct layouts.

``libbpf`` binds libbpf.so.1 through ctypes, ``objects`` turns one compiled ``.bpf.o``
into a context manager, ``ringbuf`` consumes a BPF ring buffer through its own mapping,
``layout`` gives Python the shared headers' constants and struct layouts, checked
against the compiled objects. ``libseccomp`` (the only other ctypes module) asks
libseccomp.so.2 which syscall names it knows, for ``syscount seccomp``.
"""
