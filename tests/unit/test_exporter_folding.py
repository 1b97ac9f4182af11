"""The cardinality cap: at most N label values keep series, the rest add into `other`, sums stay exact."""

from __future__ import annotations

import random

import pytest

from syscount.sinks.prometheus.folding import OTHER, SeriesCap


def per_syscall(counts: dict[tuple[str, str], int]) -> dict[str, int]:
    sums: dict[str, int] = {}
    for (_, syscall), count in counts.items():
        sums[syscall] = sums.get(syscall, 0) + count
    return sums


def test_under_the_cap_nothing_is_folded() -> None:
    counts = {("nginx", "read"): 10, ("nginx", "write"): 4, ("bash", "read"): 1}
    folded = SeriesCap(5).fold(counts)
    assert folded.counts == dict(sorted(counts.items()))
    assert (folded.kept_values, folded.folded_values, folded.folded_series) == (2, 0, 0)


def test_over_the_cap_the_largest_are_kept_and_the_rest_add_into_other() -> None:
    counts = {
        ("a", "read"): 100,
        ("b", "read"): 50,
        ("b", "write"): 60,
        ("c", "read"): 7,
        ("c", "openat"): 3,
        ("d", "read"): 1,
    }
    folded = SeriesCap(2).fold(counts)
    assert folded.counts == {
        ("a", "read"): 100,
        ("b", "read"): 50,
        ("b", "write"): 60,
        (OTHER, "openat"): 3,
        (OTHER, "read"): 8,
    }
    assert per_syscall(folded.counts) == per_syscall(counts)
    assert (folded.kept_values, folded.folded_values, folded.folded_series) == (2, 2, 3)


def test_ties_are_broken_by_name_not_by_dict_order() -> None:
    one = SeriesCap(1).fold({("zeta", "read"): 5, ("alpha", "read"): 5})
    other = SeriesCap(1).fold({("alpha", "read"): 5, ("zeta", "read"): 5})
    assert one == other
    assert ("alpha", "read") in one.counts and (OTHER, "read") in one.counts


def test_kept_values_stay_kept_even_when_others_grow_larger() -> None:
    cap = SeriesCap(1)
    cap.fold({("small", "read"): 1})
    later = cap.fold({("small", "read"): 2, ("huge", "read"): 1_000_000})
    assert later.counts == {("small", "read"): 2, (OTHER, "read"): 1_000_000}
    assert cap.kept == {"small"}


def test_a_kept_value_keeps_new_syscalls_as_series_of_its_own() -> None:
    cap = SeriesCap(1)
    cap.fold({("a", "read"): 1, ("b", "read"): 1})
    later = cap.fold({("a", "read"): 1, ("a", "futex"): 9, ("b", "read"): 1})
    assert later.counts == {("a", "futex"): 9, ("a", "read"): 1, (OTHER, "read"): 1}


def test_new_values_fill_free_room_later() -> None:
    cap = SeriesCap(2)
    cap.fold({("a", "read"): 1})
    later = cap.fold({("a", "read"): 1, ("b", "read"): 1, ("c", "read"): 1})
    assert cap.kept == {"a", "b"}
    assert later.counts == {("a", "read"): 1, ("b", "read"): 1, (OTHER, "read"): 1}


def test_a_real_value_named_other_is_always_folded() -> None:
    folded = SeriesCap(10).fold({(OTHER, "read"): 3, ("a", "read"): 1})
    assert folded.counts == {("a", "read"): 1, (OTHER, "read"): 3}
    assert folded.kept_values == 1 and folded.folded_values == 1


def test_zero_keeps_nothing_and_still_sums_exactly() -> None:
    counts = {("a", "read"): 1, ("b", "read"): 2, ("b", "write"): 3}
    folded = SeriesCap(0).fold(counts)
    assert folded.counts == {(OTHER, "read"): 3, (OTHER, "write"): 3}


def test_negative_cap_is_refused() -> None:
    with pytest.raises(ValueError, match="max_values"):
        SeriesCap(-1)


def test_random_growing_readings_keep_every_output_series_monotonic_and_sums_exact() -> None:
    """Cumulative input (rows only appear and grow) → every output counter only grows,
    and every per-syscall sum equals the input's, scrape after scrape."""
    rng = random.Random(1234)
    values = [f"comm{i}" for i in range(40)]
    syscalls = ["read", "write", "futex", "openat", "close"]
    cap = SeriesCap(7)
    counts: dict[tuple[str, str], int] = {}
    previous: dict[tuple[str, str], int] = {}
    for _ in range(200):
        for _ in range(rng.randrange(1, 6)):
            key = (rng.choice(values), rng.choice(syscalls))
            counts[key] = counts.get(key, 0) + rng.randrange(1, 1000)
        folded = cap.fold(counts)
        assert per_syscall(folded.counts) == per_syscall(counts)
        assert len({value for value, _ in folded.counts} - {OTHER}) <= 7
        for key, before in previous.items():
            assert folded.counts[key] >= before, key
        previous = folded.counts
    assert len(cap.kept) == 7
