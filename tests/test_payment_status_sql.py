"""A ledger search by status finds exactly the rows that show that status: the SQL predicates of
ledger.base (_PAYMENT_STATUS_SQL) against payment_status(), over every combination of the columns
they read, and on a real ledger of either kind (a paid claim re-adjudicated into needs_information
shows, and is found as, needs_information only)."""
import itertools
import sqlite3

from adjudicator.ledger import Ledger
from adjudicator.ledger.base import PAYMENT_STATUSES, _PAYMENT_STATUS_SQL, payment_status
from ledger_support import claim_data, record


def test_each_status_predicate_holds_for_exactly_the_rows_payment_status_names():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE s (k INTEGER, needs INTEGER, paid_on TEXT, total_payable INTEGER)")
    combos = list(itertools.product((0, 1, 3), (None, "2025-08-20"), (0, 1, 250_000)))
    db.executemany("INSERT INTO s VALUES (?, ?, ?, ?)", [(k, *c) for k, c in enumerate(combos)])
    assert set(_PAYMENT_STATUS_SQL) == set(PAYMENT_STATUSES)
    for status in PAYMENT_STATUSES:
        found = {k for (k,) in db.execute(f"SELECT k FROM s WHERE {_PAYMENT_STATUS_SQL[status].format(t='s.')}")}
        assert found == {k for k, c in enumerate(combos) if payment_status(*c) == status}, status
        assert found  # every status is reachable
    # together they partition the rows: each row has one status
    assert sum(db.execute(f"SELECT COUNT(*) FROM s WHERE {_PAYMENT_STATUS_SQL[st].format(t='')}").fetchone()[0]
               for st in PAYMENT_STATUSES) == len(combos)


def test_a_paid_claim_asked_for_information_again_is_found_as_needs_information_only(ledger_target):
    with Ledger(ledger_target) as led:
        record(led, claim_data("P1", {"payment": {"completed_on": "2025-08-01", "paid_on": "2025-08-20"}}))
        waiting = claim_data("P1", {"payment": {"completed_on": "2025-08-01", "paid_on": "2025-08-20"}})
        del waiting["incident"]["cause"]  # the engine asks for it again (needs_information)
        record(led, waiting, readjudicate=True)
        record(led, claim_data("P2"))
        shown = {r["claim_id"]: r["status"] for r in led.search()[1]}
        assert shown == {"P1": "needs_information", "P2": "unpaid"}
        assert led.search(claim_id="P1")[1][0]["paid_on"] == "2025-08-20"  # paid, and asked again
        for status in PAYMENT_STATUSES:
            assert [r["claim_id"] for r in led.search(status=status)[1]] == \
                [c for c, s in sorted(shown.items(), reverse=True) if s == status]
