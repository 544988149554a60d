"""Pieces every domain shares: column types, time zones, the home page and health check."""
