"""Reminders land at the local times staff expect, across BST/GMT, never in quiet hours, never twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.staff.reminder_times import LATE_GRACE, due_time, in_quiet_hours, out_of_quiet_hours, plan, plan_one
from conversations.model import Consultation, Reminder

LONDON = ZoneInfo("Europe/London")


def local(text: str) -> datetime:
    """A wall-clock time in London (GMT or BST as the date falls)."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


def reminder(rid: str, before: timedelta) -> Reminder:
    return Reminder(rid, before, "started_not_finished", "Please finish")


def with_window(consultation: Consultation, opens: str, closes: str, *reminders: Reminder) -> Consultation:
    return replace(consultation, opens_at=local(opens), closes_at=local(closes), reminders=reminders)


def test_a_week_before_a_gmt_close_is_the_same_wall_clock_time_in_bst(consultation: Consultation) -> None:
    # Clocks went back on Sunday 25 October 2020: the close is in GMT, a week earlier was BST.
    closes = local("2020-10-30T17:00")
    due = due_time(closes, timedelta(days=7), LONDON)
    assert due.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") == "2020-10-23 17:00 BST"
    assert due == datetime(2020, 10, 23, 16, 0, tzinfo=UTC)


def test_a_week_before_a_bst_close_is_the_same_wall_clock_time_in_gmt() -> None:
    # Clocks went forward on Sunday 28 March 2021.
    due = due_time(local("2021-04-01T12:00"), timedelta(days=7), LONDON)
    assert due.astimezone(LONDON).strftime("%Y-%m-%d %H:%M %Z") == "2021-03-25 12:00 GMT"
    assert due == datetime(2021, 3, 25, 12, 0, tzinfo=UTC)


def test_hours_before_close_are_real_elapsed_hours_across_the_change() -> None:
    # 12 hours before 12:00 GMT on the 25th is 00:00 GMT = 01:00 BST: the clocks changed in between.
    due = due_time(local("2020-10-25T12:00"), timedelta(hours=12), LONDON)
    assert due == datetime(2020, 10, 25, 0, 0, tzinfo=UTC)
    assert due.astimezone(LONDON).strftime("%H:%M %Z") == "01:00 BST"


def test_the_bundled_reminders_fall_at_five_in_the_afternoon_and_two_on_the_last_day(
    consultation: Consultation,
) -> None:
    now = local("2020-11-10T12:00")
    planned = {p.reminder.id: p for p in plan(consultation, now)}
    as_local = {rid: p.send_at.astimezone(LONDON).strftime("%a %d %b %H:%M %Z") for rid, p in planned.items()
                if p.send_at}
    assert as_local == {"one_week": "Mon 23 Nov 17:00 GMT", "one_day": "Sun 29 Nov 17:00 GMT",
                        "last_hours": "Mon 30 Nov 14:00 GMT"}


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [("2020-11-10T20:59", False), ("2020-11-10T21:00", True), ("2020-11-11T03:00", True),
     ("2020-11-11T07:59", True), ("2020-11-11T08:00", False)],
)
def test_quiet_hours_run_from_nine_at_night_to_eight_in_the_morning(moment: str, quiet: bool) -> None:
    assert in_quiet_hours(local(moment), LONDON) is quiet


def test_a_reminder_due_at_night_is_deferred_to_eight_local_time_on_the_night_the_clocks_go_back(
    consultation: Consultation,
) -> None:
    # Due 23:00 BST on Saturday 24 October; 08:00 on the Sunday is GMT (08:00 UTC), not 07:00 GMT.
    c = with_window(consultation, "2020-10-01T09:00", "2020-10-25T17:00", reminder("late", timedelta(hours=19)))
    [planned] = plan(c, now=local("2020-10-20T12:00"))
    assert planned.due.astimezone(LONDON).strftime("%d %H:%M %Z") == "24 23:00 BST"
    assert planned.send_at == datetime(2020, 10, 25, 8, 0, tzinfo=UTC)
    assert planned.why == "deferred out of quiet hours"


def test_a_reminder_due_before_dawn_waits_for_eight_the_same_morning_in_bst() -> None:
    assert out_of_quiet_hours(local("2021-06-10T05:30"), LONDON) == datetime(2021, 6, 10, 7, 0, tzinfo=UTC)


def test_a_deferral_that_would_pass_the_close_means_the_reminder_is_not_sent(consultation: Consultation) -> None:
    c = with_window(consultation, "2020-11-04T09:00", "2020-11-30T08:00", reminder("dawn", timedelta(hours=3)))
    [planned] = plan(c, now=local("2020-11-20T12:00"))
    assert planned.send_at is None
    assert planned.why == "would fall after the close"


def test_a_reminder_already_sent_is_never_planned_again(consultation: Consultation) -> None:
    now = local("2020-11-10T12:00")
    planned = {p.reminder.id: p.send_at for p in plan(consultation, now, sent={"one_week"})}
    assert planned["one_week"] is None
    assert planned["one_day"] is not None


def test_a_reminder_missed_while_the_bot_was_down_goes_out_if_only_a_little_late(
    consultation: Consultation,
) -> None:
    one_day = next(r for r in consultation.reminders if r.id == "one_day")
    due = local("2020-11-29T17:00")
    slightly_late = plan_one(consultation, one_day, due + timedelta(minutes=20))
    assert slightly_late.send_at == due + timedelta(minutes=20)
    too_late = plan_one(consultation, one_day, due + LATE_GRACE + timedelta(minutes=1))
    assert too_late.send_at is None


def test_a_late_reminder_found_at_night_still_waits_for_the_morning(consultation: Consultation) -> None:
    c = with_window(consultation, "2020-11-04T09:00", "2020-11-30T17:00", reminder("eve", timedelta(hours=44)))
    [planned] = plan(c, now=local("2020-11-28T21:30"))  # due 21:00, deferred to 08:00; found at 21:30
    assert planned.send_at == local("2020-11-29T08:00").astimezone(UTC)


def test_a_reminder_that_would_come_before_the_opening_is_not_sent(consultation: Consultation) -> None:
    c = with_window(consultation, "2020-11-25T09:00", "2020-11-30T17:00", reminder("week", timedelta(days=7)))
    [planned] = plan(c, now=local("2020-11-01T12:00"))
    assert planned.send_at is None
