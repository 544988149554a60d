"""The durable email outbox and its worker."""
