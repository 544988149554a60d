"""The calendar tests share the plan tests' fixtures (a network, events)."""

from tests.plan.conftest import network, other_coordinator  # noqa: F401
