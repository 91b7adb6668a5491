"""What the offer tests share: a playbook with a compensation policy, and a complaint whose
analysis is known."""

from __future__ import annotations

# Severity 4, category refunds, asks for a refund (see amends.analysis).
SEV4 = (
    "I was charged twice, this is the third time, I want a refund or I'm taking you to court "
    "and cancelling my account."
)

PLAYBOOK = """
name: offers desk
teams:
  - name: Payments
    categories: [billing, refunds]
    lead: lead@example.com
    agents:
      - {name: Lea Lead, email: lead@example.com}
      - {name: Ann Agent, email: ann@example.com}
  - name: Care
    lead: carl@example.com
    agents:
      - {name: Carl Care, email: carl@example.com}
default_team: Care
sla:
  calendar: 24/7
  targets:
    P1: {first_response: 1h, next_response: 1h, resolution: 4h}
    P2: {first_response: 2h, next_response: 2h, resolution: 8h}
    P3: {first_response: 4h, next_response: 4h, resolution: 16h}
    P4: {first_response: 8h, next_response: 8h, resolution: 40h}
compensation:
  currency: GBP
  monthly_budget: 100
  amounts: {1: 0, 2: 5, 3: 15, 4: 40}
  caps: {agent: 20, lead: 150}
  voucher_expires_after: 30d
"""
