"""Calendar invitations (iCalendar by email), RSVP, reminders and subscribable feeds."""
