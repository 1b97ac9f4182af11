"""A log2 latency histogram as text bars, the way BCC's tools print them."""

from __future__ import annotations

from ..model import SyscallTime

BAR_WIDTH = 40


def _bucket_range(bucket: int) -> tuple[int, int]:
    low = 0 if bucket == 0 else 1 << bucket
    return low, (1 << (bucket + 1)) - 1


def render_histogram(name: str, time: SyscallTime, last_bucket_open: bool = True) -> str:
    """Rows from the first to the last non-empty bucket; the last bucket also holds longer calls."""
    used = [k for k, count in enumerate(time.hist) if count]
    if not used:
        return ""
    peak = max(time.hist)
    lines = [
        f"{name}: {time.timed} timed calls, avg {time.avg_ns / 1000:.1f} us",
        f"{'ns':>25} : count    distribution",
    ]
    for bucket in range(used[0], used[-1] + 1):
        low, high = _bucket_range(bucket)
        count = time.hist[bucket]
        upper = "inf" if last_bucket_open and bucket == len(time.hist) - 1 else str(high)
        bar = "*" * round(BAR_WIDTH * count / peak) if count else ""
        lines.append(f"{low:>12} -> {upper:<10} : {count:<8} |{bar:<{BAR_WIDTH}}|")
    return "\n".join(lines) + "\n\n"
