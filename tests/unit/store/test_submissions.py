"""The submission queue on both backends: idempotency, leases, final states."""

from __future__ import annotations

import asyncio

from imapapi.store.base import NewEvent, SentRecord, Store, Submission, SubmissionState

DAY = 24 * 3600.0


def submission(
    queue_id: str,
    *,
    account: str = "a",
    key: str | None = None,
    at: float = 1000.0,
    send_at: float | None = None,
) -> Submission:
    return Submission(
        queue_id=queue_id,
        account=account,
        message_id=f"<{queue_id}@example.com>",
        envelope_from="me@example.com",
        envelope_to=("you@example.com", "hidden@example.com"),
        created=at,
        send_at=send_at if send_at is not None else at,
        next_attempt=send_at if send_at is not None else at,
        raw="enc1:ciphertext",
        idempotency_key=key,
        reference={"path": "INBOX", "uidValidity": 7, "uid": 3, "action": "reply"},
    )


async def test_added_submission_reads_back_whole(store: Store) -> None:
    stored, created = await store.add_submission(submission("q1", key="k"), 0.0)
    assert created is True
    again = await store.get_submission("q1")
    assert again == stored
    assert again is not None and again.envelope_to == ("you@example.com", "hidden@example.com")
    assert again.reference == {"path": "INBOX", "uidValidity": 7, "uid": 3, "action": "reply"}
    assert await store.get_submission("nope") is None


async def test_same_key_within_the_window_returns_the_first_submission(store: Store) -> None:
    first, created = await store.add_submission(submission("q1", key="k", at=1000.0), 0.0)
    second, created_again = await store.add_submission(submission("q2", key="k", at=2000.0), 0.0)
    assert created and not created_again
    assert second.queue_id == "q1" == first.queue_id
    assert await store.get_submission("q2") is None
    # Another account may use the same key.
    other, created_other = await store.add_submission(submission("q3", key="k", account="b"), 0.0)
    assert created_other and other.queue_id == "q3"


async def test_key_is_free_again_after_the_window(store: Store) -> None:
    await store.add_submission(submission("q1", key="k", at=1000.0), 0.0)
    later = 1000.0 + DAY + 1
    fresh, created = await store.add_submission(submission("q2", key="k", at=later), later - DAY)
    assert created and fresh.queue_id == "q2"
    old = await store.get_submission("q1")
    assert old is not None and old.idempotency_key is None
    found = await store.find_submission_by_key("a", "k", later - DAY)
    assert found is not None and found.queue_id == "q2"


async def test_concurrent_adds_with_one_key_queue_one(store: Store) -> None:
    results = await asyncio.gather(
        *(store.add_submission(submission(f"q{i}", key="same"), 0.0) for i in range(8))
    )
    assert sum(created for _, created in results) == 1
    assert len({s.queue_id for s, _ in results}) == 1
    page = await store.list_submissions("a", [SubmissionState.QUEUED], 0, 50)
    assert page.total == 1


async def test_claim_takes_due_ones_and_leases_them(store: Store) -> None:
    await store.add_submission(submission("due", at=100.0), 0.0)
    await store.add_submission(submission("later", at=100.0, send_at=500.0), 0.0)
    claimed = await store.claim_submissions(now=200.0, lease=60.0, limit=10)
    assert [s.queue_id for s in claimed] == ["due"]
    assert claimed[0].state is SubmissionState.SENDING and claimed[0].next_attempt == 260.0
    assert claimed[0].raw == "enc1:ciphertext"
    # Leased: not handed out again until the lease runs out (a worker that died mid-send).
    assert await store.claim_submissions(now=259.0, lease=60.0, limit=10) == []
    again = await store.claim_submissions(now=260.0, lease=60.0, limit=10)
    assert [s.queue_id for s in again] == ["due"]
    assert [s.queue_id for s in await store.claim_submissions(300.0, 60.0, 10)] == []
    assert [s.queue_id for s in await store.claim_submissions(500.0, 60.0, 10)] == ["due", "later"]


async def test_retry_requeues_for_later(store: Store) -> None:
    await store.add_submission(submission("q1", at=100.0), 0.0)
    await store.claim_submissions(now=100.0, lease=60.0, limit=10)
    await store.submission_retry("q1", 1, 400.0, "451 4.3.0 later", 451, now=101.0)
    current = await store.get_submission("q1")
    assert current is not None
    assert (current.state, current.attempts, current.next_attempt) == (
        SubmissionState.QUEUED,
        1,
        400.0,
    )
    assert (current.last_response, current.smtp_code) == ("451 4.3.0 later", 451)
    assert await store.claim_submissions(now=399.0, lease=60.0, limit=10) == []
    assert len(await store.claim_submissions(now=400.0, lease=60.0, limit=10)) == 1


async def test_finish_drops_the_message_and_writes_events_and_sent_index(
    store: Store,
) -> None:
    await store.add_submission(submission("q1", at=100.0), 0.0)
    await store.claim_submissions(now=100.0, lease=60.0, limit=10)
    event = NewEvent(event_id="sent-q1", account="a", payload={"event": "messageSent"}, created=1)
    sent = SentRecord(account="a", message_id="<q1@example.com>", queue_id="q1", sent_at=101.0)
    await store.finish_submission(
        "q1",
        SubmissionState.SENT,
        attempts=1,
        response="250 ok",
        smtp_code=250,
        now=101.0,
        events=[event],
        sent=sent,
    )
    current = await store.get_submission("q1")
    assert current is not None and current.state is SubmissionState.SENT and current.raw is None
    assert await store.get_sent("a", "<q1@example.com>") == sent
    assert await store.get_sent("b", "<q1@example.com>") is None
    assert [e.event_id for e in await store.due_events(10.0, 10)] == ["sent-q1"]
    assert await store.claim_submissions(now=10_000.0, lease=60.0, limit=10) == []


async def test_cancel_only_queued(store: Store) -> None:
    await store.add_submission(submission("q1"), 0.0)
    await store.add_submission(submission("q2"), 0.0)
    await store.claim_submissions(now=1000.0, lease=60.0, limit=1)  # q1 is being sent
    busy = await store.cancel_submission("q1", 1001.0)
    assert busy is not None and busy.state is SubmissionState.SENDING and busy.raw is not None
    cancelled = await store.cancel_submission("q2", 1001.0)
    assert cancelled is not None and cancelled.state is SubmissionState.CANCELLED
    assert cancelled.raw is None
    assert await store.cancel_submission("unknown", 1001.0) is None


async def test_list_filters_by_account_and_state_without_raw(store: Store) -> None:
    for i in range(5):
        await store.add_submission(submission(f"a{i}", at=100.0 + i), 0.0)
    await store.add_submission(submission("b0", account="b"), 0.0)
    await store.cancel_submission("a4", 200.0)
    page = await store.list_submissions(
        "a", [SubmissionState.QUEUED, SubmissionState.SENDING], 1, 2
    )
    assert page.total == 4
    assert [s.queue_id for s in page.items] == ["a1", "a2"]
    assert all(s.raw is None for s in page.items)
    everyone = await store.list_submissions(None, list(SubmissionState), 0, 50)
    assert everyone.total == 6


async def test_purge_forgets_only_old_final_submissions(store: Store) -> None:
    await store.add_submission(submission("old", at=100.0), 0.0)
    await store.add_submission(submission("pending", at=100.0), 0.0)
    await store.cancel_submission("old", 150.0)
    assert await store.purge_submissions(before=200.0) == 1
    assert await store.get_submission("old") is None
    assert await store.get_submission("pending") is not None
