"""One module per BPF stem: its configuration, set-up and cumulative ``read()``.

Programs read kernel maps into plain cumulative readings; they never format output.
"""
