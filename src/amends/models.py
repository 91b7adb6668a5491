"""Every table, imported once so that Base.metadata is complete for Alembic and the tests."""

from amends.cases.models import Case
from amends.customers.models import Customer, Identity
from amends.db import Base
from amends.feedback.models import Feedback, IdempotentRequest, QuarantinedItem
from amends.mailbox.models import Mailbox, MailboxMessage
from amends.taxonomy.models import Taxonomy, TaxonomyExample
from amends.teams.models import Agent, Team

__all__ = [
    "Agent",
    "Base",
    "Case",
    "Customer",
    "Feedback",
    "IdempotentRequest",
    "Identity",
    "Mailbox",
    "MailboxMessage",
    "QuarantinedItem",
    "Taxonomy",
    "TaxonomyExample",
    "Team",
]
