"""Every domain's models, imported in one place so that metadata knows all tables."""

from hub.auth.models import AuthToken, TokenPurpose
from hub.directory.models import (
    Category,
    Network,
    NetworkMember,
    Organisation,
    OrgKind,
    Person,
    Role,
)
from hub.outbox.models import MessageStatus, OutboxMessage

__all__ = [
    "AuthToken", "TokenPurpose", "Category", "Network", "NetworkMember", "Organisation",
    "OrgKind", "Person", "Role", "MessageStatus", "OutboxMessage",
]
