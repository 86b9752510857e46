"""Generated people for the demo: plausible names, no real person's details.

The seeds name real people; the demo does not use them. Names are drawn from
common British first names and surnames with a fixed seed, so every run makes
the same people, and every address is under `example.org` (RFC 2606).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

FIRST_NAMES = (
    "Aisha",
    "Alan",
    "Amara",
    "Amy",
    "Andrew",
    "Anita",
    "Ben",
    "Bridget",
    "Callum",
    "Caroline",
    "Chloe",
    "Ciaran",
    "Claire",
    "Daniel",
    "Deborah",
    "Declan",
    "Eilidh",
    "Emeka",
    "Emma",
    "Fatima",
    "Fiona",
    "Gareth",
    "Grace",
    "Hannah",
    "Harjit",
    "Helen",
    "Imran",
    "Isla",
    "Jack",
    "James",
    "Jasmine",
    "Joanne",
    "Karen",
    "Kwame",
    "Laura",
    "Leah",
    "Lucy",
    "Mairead",
    "Mark",
    "Martin",
    "Mei",
    "Michael",
    "Nadia",
    "Niamh",
    "Nicola",
    "Oliver",
    "Olu",
    "Orla",
    "Patrick",
    "Priya",
    "Rachel",
    "Rebecca",
    "Rory",
    "Ruth",
    "Sadia",
    "Samuel",
    "Sarah",
    "Sean",
    "Shona",
    "Simone",
    "Sophie",
    "Tariq",
    "Thomas",
    "Una",
    "Victoria",
    "Wei",
    "Yasmin",
    "Zainab",
)
SURNAMES = (
    "Adeyemi", "Ahmed", "Allen", "Baker", "Begum", "Bell", "Brennan", "Brown", "Campbell",
    "Chen", "Clarke", "Coleman", "Cooper", "Davies", "Doherty", "Edwards", "Evans", "Fernandes",
    "Fitzgerald", "Gallagher", "Green", "Hall", "Hughes", "Hussain", "Jackson", "Johnson",
    "Kaur", "Kelly", "Khan", "King", "Lee", "Lewis", "McAllister", "McCann", "Mensah", "Morgan",
    "Murphy", "Nguyen", "Noble", "O'Neill", "Okafor", "Osei", "Patel", "Quinn", "Reid",
    "Robinson", "Shah", "Singh", "Smith", "Taylor", "Thompson", "Walker", "Ward", "Watson",
    "White", "Williams", "Wilson", "Wright", "Young",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    display_name: str
    email: str


def _local_part(first: str, last: str) -> str:
    return re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())


class PeopleGenerator:
    """Makes distinct people; the same seed makes the same people in the same order."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)
        self._used: set[str] = set()

    def person(self, organisation_domain: str) -> Person:
        for _ in range(1000):
            first = self._random.choice(FIRST_NAMES)
            last = self._random.choice(SURNAMES)
            if f"{first} {last}" not in self._used:
                break
        else:
            raise RuntimeError("ran out of distinct generated names")
        self._used.add(f"{first} {last}")
        email = f"{_local_part(first, last)}@{organisation_domain}.example.org"
        return Person(f"{first} {last}", email)
