"""Bookkeeping for crash and fault tests: what was accepted, what arrived, what was lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hookwire.testing import Receiver


@dataclass
class Ledger:
    """Deliveries the engine acknowledged, as (message id, receiver index) pairs."""

    accepted: set[tuple[str, int]] = field(default_factory=set)

    def accept(self, message_id: str, receivers: int) -> None:
        self.accepted.update((message_id, index) for index in range(receivers))

    def audit(self, receivers: Sequence[Receiver]) -> Audit:
        arrived = Counter(
            (r.webhook_id, i) for i, receiver in enumerate(receivers) for r in receiver.requests
        )
        bodies: dict[tuple[str, int], set[bytes]] = {}
        for i, receiver in enumerate(receivers):
            for r in receiver.requests:
                bodies.setdefault((r.webhook_id, i), set()).add(r.body)
        return Audit(
            lost=self.accepted - set(arrived),
            duplicates=sum(count - 1 for count in arrived.values()),
            # A duplicate must be the same request again: same webhook-id, same bytes.
            changed=sorted(key for key, variants in bodies.items() if len(variants) > 1),
        )


@dataclass(frozen=True)
class Audit:
    lost: set[tuple[str, int]]
    duplicates: int
    changed: list[tuple[str, int]]
