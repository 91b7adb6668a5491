"""Demo data the desk generates itself: realistic complaints, replies, reviews and surveys.

Deterministic for a given seed, so the demo and the benchmarks are repeatable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

FIRST = [
    "Ana",
    "Bram",
    "Chloé",
    "Dmitri",
    "Eilidh",
    "Farah",
    "Gideon",
    "Hana",
    "Ioana",
    "Jamal",
    "Kasia",
    "Liam",
    "Mei",
    "Nnamdi",
    "Oksana",
    "Pádraig",
    "Quinn",
    "Rosa",
    "Siobhán",
    "Tomás",
    "Uma",
    "Viktor",
    "Wanjiru",
    "Xavier",
    "Yusuf",
    "Zoë",
]
LAST = [
    "López",
    "de Vries",
    "Martin",
    "Ivanov",
    "MacLeod",
    "Haddad",
    "Cohen",
    "Sato",
    "Popescu",
    "Okafor",
    "Nowak",
    "Byrne",
    "Chen",
    "Eze",
    "Kovalenko",
    "Ó Súilleabháin",
    "Reyes",
    "Rossi",
    "Ní Bhriain",
    "García",
    "Patel",
    "Novák",
    "Kamau",
    "Dubois",
    "Demir",
    "Schmidt",
]
PRODUCTS = [
    "order",
    "subscription",
    "blender",
    "phone case",
    "flight",
    "parcel",
    "invoice",
    "account",
    "headphones",
    "sofa",
    "app",
    "gift card",
]
COMPLAINTS = [
    "I was charged twice for my {p} this month and nobody has answered my emails.",
    "My {p} arrived damaged, the box was crushed and half of it is broken.",
    "Still waiting for my refund for the {p} I returned three weeks ago. This is ridiculous.",
    "Your {p} has been 'out for delivery' for five days. Where is it?",
    "The app crashes every time I try to pay for my {p}. Tried reinstalling, nothing.",
    "I cancelled my {p} in March and you are still taking money from my card!",
    "Locked out of my account again, the reset email never arrives. Third time this year.",
    "The agent on the phone was rude and hung up on me when I asked about my {p}.",
    "You sent me the wrong {p}. I ordered blue, got a red one, and the return label doesn't work.",
    "I have been on hold for 50 minutes about my {p}. Fifty minutes!",
    "Stop sending me marketing emails, I unsubscribed twice.",
    "Been a loyal customer for six years and this is how you treat me over a {p}? I'm done.",
    "The {p} stopped working after two days. It got very hot and I'm worried it's a fire risk.",
    "If my {p} isn't sorted by Friday I'm taking this to the ombudsman.",
]
PRAISE = [
    "Quick delivery and the {p} works perfectly, thank you!",
    "Lovely service, the team sorted my {p} in minutes.",
]
REPLIES = [
    "Hi {name}, we're so sorry about your {p}. Could you send us a DM with your order "
    "details so we can put this right today?",
    "{name}, that's not the experience we want for you and we apologise. Please DM us and "
    "we'll sort your {p} straight away.",
]
BRANDS = ["Northwind", "Lumen Air", "Parcelly"]


def _person(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    handle = (first + last).replace(" ", "").replace("'", "")
    handle = "".join(ch for ch in handle if ch.isascii() and ch.isalnum())[:15]
    email = f"{handle.lower()}{rng.randint(1, 99)}@example.com"
    return f"{first} {last}", f"{handle}{rng.randint(1, 999)}", email


def demo_feedback(
    count: int = 120, *, seed: int = 7, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """Feedback objects in the API's shape over the last two weeks, newest last."""
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    start = end - timedelta(days=14)
    people = [_person(rng) for _ in range(max(3, count // 3))]
    for n in range(count):
        name, handle, email = rng.choice(people)
        product = rng.choice(PRODUCTS)
        when = start + timedelta(seconds=rng.randint(0, 14 * 86400))
        roll = rng.random()
        if roll < 0.45:
            text = (
                "@"
                + rng.choice(BRANDS).replace(" ", "")
                + " "
                + rng.choice(COMPLAINTS).format(p=product)
            )
            item: dict[str, Any] = {
                "channel": "x",
                "handle": handle,
                "platform": "x",
                "reach": int(rng.paretovariate(1.2) * 150),
                "public": True,
            }
            if rng.random() < 0.3:
                yield {
                    "text": text,
                    "author_name": name,
                    "received_at": when.isoformat(),
                    "source_id": f"demo-{n}",
                    **item,
                }
                reply = rng.choice(REPLIES).format(name=name.split()[0], p=product)
                yield {
                    "text": reply,
                    "direction": "out",
                    "channel": "x",
                    "handle": handle,
                    "platform": "x",
                    "public": True,
                    "source_id": f"demo-{n}-r",
                    "received_at": (when + timedelta(minutes=rng.randint(5, 240))).isoformat(),
                    "thread_id": f"demo-{n}",
                    "in_reply_to": f"demo-{n}",
                }
                continue
        elif roll < 0.75:
            text = rng.choice(COMPLAINTS).format(p=product) + f"\n\nRegards,\n{name}"
            item = {
                "channel": "email",
                "email": email,
                "subject": f"Problem with my {product}",
                "public": False,
            }
        elif roll < 0.9:
            stars = rng.choice([1, 1, 2, 2, 3, 5])
            text = (rng.choice(PRAISE) if stars == 5 else rng.choice(COMPLAINTS)).format(p=product)
            item = {
                "channel": "review",
                "score": stars,
                "score_scale": "stars",
                "public": True,
                "meta": {"platform": "google"},
            }
        else:
            nps = rng.choice([0, 2, 4, 6, 9, 10])
            text = (rng.choice(PRAISE) if nps >= 9 else rng.choice(COMPLAINTS)).format(p=product)
            item = {"channel": "survey", "email": email, "score": nps, "score_scale": "nps"}
        yield {
            "text": text,
            "author_name": name,
            "received_at": when.isoformat(),
            "source_id": f"demo-{n}",
            **item,
        }
