"""Everything that talks to an outside service, each behind a small interface."""
