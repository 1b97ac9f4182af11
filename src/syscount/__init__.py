"""syscount: count Linux system calls in the kernel with eBPF, at near-zero cost."""

__version__ = "0.2.0"
