"""Every table, imported once so that Base.metadata is complete for Alembic and the tests."""

from amends.cases.models import Case, CaseEvent
from amends.customers.models import Customer, Identity
from amends.db import Base
from amends.feedback.models import Feedback, IdempotentRequest, QuarantinedItem
from amends.followups.models import FollowUp
from amends.incidents.models import (
    DetectorRun,
    Incident,
    IncidentCase,
    IncidentEvent,
    SpikeAlert,
)
from amends.keys import DeskSecret
from amends.mailbox.models import Mailbox, MailboxMessage
from amends.offers.models import Offer, Voucher
from amends.outbound.models import OutboundMail, Webhook, WebhookDelivery
from amends.playbook.models import Playbook
from amends.problems.models import CorrectiveAction, Problem, ProblemCase
from amends.replies.models import ReplyFinding
from amends.taxonomy.models import Taxonomy, TaxonomyExample
from amends.teams.models import Agent, Notification, Team
from amends.timers.models import Timer
from amends.users.models import ApiToken, LoginSession, User

__all__ = [
    "Agent",
    "ApiToken",
    "Base",
    "Case",
    "CaseEvent",
    "CorrectiveAction",
    "Customer",
    "DeskSecret",
    "DetectorRun",
    "Feedback",
    "FollowUp",
    "IdempotentRequest",
    "Identity",
    "Incident",
    "IncidentCase",
    "IncidentEvent",
    "LoginSession",
    "Mailbox",
    "MailboxMessage",
    "Notification",
    "Offer",
    "OutboundMail",
    "Playbook",
    "Problem",
    "ProblemCase",
    "QuarantinedItem",
    "ReplyFinding",
    "SpikeAlert",
    "Taxonomy",
    "TaxonomyExample",
    "Team",
    "Timer",
    "User",
    "Voucher",
    "Webhook",
    "WebhookDelivery",
]
