"""Element values from a segment's split text: shared by the reader and the set validator."""

from __future__ import annotations

from crossdock.schemas.x12.tree import Composite, Repeats

__all__ = ["split_values"]


def split_values(parts: list[str], component: str, repetition: str) -> tuple:
    """Element values of a segment whose text holds a component or repetition separator.

    Args:
        parts: the segment text split on the element separator, segment id first.
        component: the component separator (a character that cannot occur when there is none).
        repetition: the repetition separator (likewise).

    Returns:
        One value per element after the id: ``str``, ``Composite`` or ``Repeats``.
    """
    values = []
    for part in parts[1:]:
        if repetition in part:
            values.append(Repeats(Composite(r.split(component)) if component in r else r
                                  for r in part.split(repetition)))
        elif component in part:
            values.append(Composite(part.split(component)))
        else:
            values.append(part)
    return tuple(values)
