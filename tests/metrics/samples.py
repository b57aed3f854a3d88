"""Read ``/metrics`` with prometheus-client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Samples", "parse"]


class Samples:
    """A scrape's samples by name and labels: ``value(name, **labels)`` is the sum of the
    samples of ``name`` whose labels include ``labels`` (0 when there is none)."""

    def __init__(self, text: str) -> None:
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.rows = [
            (sample.name, sample.labels, sample.value)
            for family in self.families.values()
            for sample in family.samples
        ]

    def value(self, name: str, **labels: str) -> float:
        return sum(
            value
            for found, have, value in self.rows
            if found == name and all(have.get(k) == v for k, v in labels.items())
        )

    def labels(self, name: str, label: str) -> set[str]:
        return {have[label] for found, have, _ in self.rows if found == name and label in have}

    def has(self, name: str) -> bool:
        return any(found == name for found, _, _ in self.rows)


def parse(text: str) -> Samples:
    return Samples(text)
