"""The directory of organisations, network associations and people."""
