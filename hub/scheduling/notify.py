"""The one place where scheduling asks the calendar domain to email invitees.

hub.calendar.invitations builds the iCalendar letters (REQUEST, updates, CANCEL) and queues
them, in the caller's transaction, as batches the outbox worker expands person by person.
Scheduling calls it here, and only here, so that who is told what lives in one file:

- ``requests(target, invitations)``: these invitations are new (or back after a removal);
- ``cancellations(target, invitations)``: these people were taken out of the audience;
- ``updates(target)``: what the invitation says changed; the SEQUENCE is already raised;
- ``event_cancelled(target)``: the event, the occurrence or the whole series is cancelled.

`target` is an Event (a single event, or one occurrence of a series: it travels with
RECURRENCE-ID) or a Series (one letter per person for the whole series, with RRULE and EXDATE
for cancelled sessions). hub.scheduling.services decides which: changes made to a series as a
whole go to the Series, changes of one session to that Event. Drafts never reach this module.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.scheduling.models import Event, Invitation, Series

Target = Event | Series


def requests(event: Target, invitations: Sequence[Invitation]) -> None:
    if invitations:
        from hub.calendar import invitations as calendar

        calendar.queue_requests(event, list(invitations))


def cancellations(event: Target, invitations: Sequence[Invitation]) -> None:
    if invitations:
        from hub.calendar import invitations as calendar

        calendar.queue_cancellations(event, list(invitations))


def updates(event: Target) -> None:
    from hub.calendar import invitations as calendar

    calendar.queue_updates(event)


def event_cancelled(event: Target) -> None:
    from hub.calendar import invitations as calendar

    calendar.queue_event_cancelled(event)
