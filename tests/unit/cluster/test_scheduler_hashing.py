"""Rendezvous hashing (cluster/scheduler.py): an even spread, and a node that joins or leaves
moves only the accounts that must move."""

from __future__ import annotations

from collections import Counter

from imapapi.cluster.scheduler import default_node_id, preferred_node

ACCOUNTS = [f"account-{n}" for n in range(9000)]


def test_accounts_spread_evenly_over_the_nodes() -> None:
    nodes = ["node-a", "node-b", "node-c"]
    spread = Counter(preferred_node(a, nodes) for a in ACCOUNTS)
    assert set(spread) == set(nodes)
    assert all(2700 <= n <= 3300 for n in spread.values()), spread  # 1/3 ± 10 %


def test_a_joining_node_takes_a_fair_share_from_every_node_and_nothing_else_moves() -> None:
    before = {a: preferred_node(a, ["node-a", "node-b"]) for a in ACCOUNTS}
    after = {a: preferred_node(a, ["node-a", "node-b", "node-c"]) for a in ACCOUNTS}
    moved = [a for a in ACCOUNTS if before[a] != after[a]]
    assert all(after[a] == "node-c" for a in moved)
    assert 2700 <= len(moved) <= 3300
    taken_from = Counter(before[a] for a in moved)
    assert all(1200 <= n <= 1800 for n in taken_from.values()), taken_from


def test_a_leaving_node_hands_out_only_its_own_accounts() -> None:
    three = {a: preferred_node(a, ["node-a", "node-b", "node-c"]) for a in ACCOUNTS}
    two = {a: preferred_node(a, ["node-a", "node-c"]) for a in ACCOUNTS}
    assert all(three[a] == two[a] for a in ACCOUNTS if three[a] != "node-b")


def test_the_choice_does_not_depend_on_the_order_nodes_are_listed_in() -> None:
    assert all(
        preferred_node(a, ["x", "y", "z"]) == preferred_node(a, ["z", "x", "y"])
        for a in ACCOUNTS[:500]
    )


def test_default_node_ids_differ_between_processes_and_starts() -> None:
    assert default_node_id() != default_node_id()
