"""Events, series and programs, audiences and invitations, the year's joint plan."""
