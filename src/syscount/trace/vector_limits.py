"""When numpy renders a run of events (decode/vector.py) and when the per-event formatters do.

Kept apart so the per-event path knows the limits without importing numpy.
"""

# Below this many events in a run, or with more than one syscall per this many events,
# the per-event formatters are as fast: numpy's fixed cost per call dominates.
MIN_RUN = 256
EVENTS_PER_SYSCALL = 64
# In a run of events with data, numpy renders them when their strings repeat: at most one
# distinct rendering (made per event, in Python) per this many events.
EVENTS_PER_TEXT = 4
