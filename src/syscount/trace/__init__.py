"""syscount trace: turning ring-buffer events into what people read.

``record`` mirrors the kernel's event layout (bpf/trace.h); ``signatures`` reads each
syscall's argument names and types from the running kernel (tracefs); ``values``
names flags, file descriptors and errnos; ``strings`` parses the captured strings;
``compile`` builds one formatting function per syscall for a renderer (``text``,
``jsonl``), so decoding a batch costs one call per event and no per-argument dispatch;
``stream`` walks a batch of records and ``sink`` writes them, counting every loss.
"""
