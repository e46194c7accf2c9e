"""The service's engine and record locks let waiters in the order they came (service/context.py): under
load a request must not wait behind many that arrived after it."""
import threading
import time

from adjudicator.service.context import ENGINE_LOCK, RECORD_LOCK, FairLock


def test_waiters_enter_in_the_order_they_came():
    lock, order, threads = FairLock(), [], []
    lock.__enter__()  # held: every thread below queues
    for i in range(12):
        t = threading.Thread(target=lambda i=i: (lock.__enter__(), order.append(i), lock.__exit__()))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 10
        while lock._next_ticket != i + 2:  # thread i has drawn its ticket before the next one starts
            assert time.monotonic() < deadline
            time.sleep(0.001)
    lock.__exit__()
    for t in threads:
        t.join(10)
    assert order == list(range(12))


def test_one_holder_at_a_time_and_the_lock_is_reusable():
    lock, inside, most = FairLock(), [0], [0]

    def work():
        for _ in range(200):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                inside[0] -= 1
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert most[0] == 1 and lock._serving == lock._next_ticket == 1600


def test_the_service_uses_fair_locks():
    assert isinstance(ENGINE_LOCK, FairLock) and isinstance(RECORD_LOCK, FairLock)
