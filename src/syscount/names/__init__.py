"""Naming: syscall tables (generated), classes, errnos, tracepoint renames, the -s selector."""
