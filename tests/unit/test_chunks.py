"""A poll cut into chunks that are themselves valid polls, and chunks' results merged into
one transaction's worth."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.workers.loop import chunks
from tracker.db.batches import BatchResult


@given(st.lists(st.integers(1, 40), min_size=1, max_size=8), st.integers(1, 30))
def test_chunks_are_polls_of_at_most_size_that_together_are_the_poll(sizes, size):
    records = {p: [(p, offset) for offset in range(100, 100 + n)] for p, n in enumerate(sizes)}
    cut = list(chunks(records, size))
    assert all(0 < sum(map(len, c.values())) <= size for c in cut)
    for p, rs in records.items():  # each partition's records once, in offset order
        assert [r for c in cut for r in c.get(p, [])] == rs
    # No chunk could have taken the next one's first slice: none is cut smaller than needed.
    for before, after in zip(cut, cut[1:]):
        first = next(iter(after.values()))
        assert sum(map(len, before.values())) + len(first) > size


def test_small_partitions_share_a_chunk():
    assert list(chunks({0: [1, 2], 1: [3], 2: [4, 5, 6]}, 4)) == [{0: [1, 2], 1: [3]}, {2: [4, 5, 6]}]


def test_merged_results_keep_every_row_and_the_last_state_and_record_of_each():
    first = BatchResult(positions=[("A", 1)], states=[("A", "s1"), ("B", "s1")], violations=[("v1", "open")],
                        outbox=[("t", "A", "e1", b"")], offsets={("f", 0): 10}, checkpoints=[("A", 1, b"")])
    second = BatchResult(positions=[("A", 2)], states=[("A", "s2")], violations=[("v1", "closed"), ("v2", "open")],
                         outbox=[("t", "A", "e2", b"")], offsets={("f", 0): 20, ("f", 1): 5}, replayed={"A": 0})
    merged = BatchResult.merged([first, second])
    assert merged.positions == [("A", 1), ("A", 2)]
    assert merged.states == [("A", "s2"), ("B", "s1")]
    assert merged.violations == [("v1", "closed"), ("v2", "open")]
    assert [row[2] for row in merged.outbox] == ["e1", "e2"]
    assert merged.offsets == {("f", 0): 20, ("f", 1): 5}
    assert merged.checkpoints == [("A", 1, b"")] and merged.replayed == {"A": 0}
