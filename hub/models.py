"""Every domain's models, imported in one place so that metadata knows all tables."""

from hub.archive.models import (
    DigestSubscription,
    Material,
    MaterialAuthor,
    MaterialTag,
)
from hub.attendance.models import (
    Attendance,
    AttendanceInterval,
    AttendanceLog,
    CheckIn,
    CheckRound,
    CreditRule,
)
from hub.auth.models import AuthToken, TokenPurpose
from hub.board.models import (
    Board,
    BoardChange,
    BoardImage,
    Comment,
    Post,
    Reaction,
    Section,
)
from hub.calendar.models import CalendarFeed, ReminderSent
from hub.conferencing.models import (
    ProviderAccount,
    ProviderInterval,
    ProviderReport,
    Room,
    RoomRegistration,
)
from hub.directory.models import (
    Category,
    Network,
    NetworkMember,
    Organisation,
    OrgKind,
    Person,
    Role,
)
from hub.growth.models import Certificate, FeedbackRequest, InternshipCompletion
from hub.outbox.models import MessageStatus, OutboxMessage
from hub.reports.models import OrgReport, ReportPeriod
from hub.scheduling.models import (
    Event,
    EventAudience,
    EventFormat,
    EventHost,
    EventPerson,
    EventRole,
    EventStatus,
    Invitation,
    InvitationState,
    PartStat,
    Plan,
    PlanApproval,
    PlanItem,
    PlanStatus,
    Series,
    SeriesPerson,
)

__all__ = [
    "AuthToken", "TokenPurpose", "Category", "Network", "NetworkMember", "Organisation",
    "OrgKind", "Person", "Role", "MessageStatus", "OutboxMessage", "CalendarFeed", "ReminderSent",
    "Event", "EventAudience", "EventFormat", "EventHost", "EventPerson", "EventRole",
    "EventStatus", "Invitation", "InvitationState", "PartStat", "Plan", "PlanApproval",
    "PlanItem", "PlanStatus", "Series", "SeriesPerson", "ProviderAccount", "ProviderInterval",
    "ProviderReport", "Room", "RoomRegistration", "Board", "BoardChange", "BoardImage",
    "Comment", "Post", "Reaction", "Section", "Attendance", "AttendanceInterval",
    "AttendanceLog", "CheckIn", "CheckRound", "CreditRule", "Certificate", "FeedbackRequest",
    "InternshipCompletion", "OrgReport", "ReportPeriod", "DigestSubscription", "Material",
    "MaterialAuthor", "MaterialTag",
]
