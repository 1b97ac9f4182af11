"""Recordings: JSON-lines files written by ``syscount --format json``, read back, and
what is made from them: ``load`` reads one into the model's types; ``diff`` compares
two; ``series`` and ``report`` turn one into an HTML page of charts; seccomp profiles.
"""
