"""Element values from a segment's split text, and the first elements of envelope segments:
shared by the reader and the set validator."""

from __future__ import annotations

from crossdock.schemas.x12.tree import Composite, Repeats, Segment

__all__ = ["first_three", "split_values"]


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


def first_three(segment: Segment) -> tuple[str, str, str]:
    """Elements 1 to 3 as :meth:`Segment.get` reads them (``""`` when absent), in a few steps for
    the usual plain strings: every ST and SE is read this way.

    Args:
        segment: an envelope segment (ST, SE).

    Returns:
        ``(get(1), get(2), get(3))``.
    """
    values = segment[1]
    n = len(values)
    if n == 2:
        first, second = values
        third = ""
    elif n > 2:
        first, second, third = values[0], values[1], values[2]
    else:
        return segment.get(1), segment.get(2), segment.get(3)
    if first.__class__ is str and second.__class__ is str and third.__class__ is str:
        return first, second, third  # type: ignore[return-value]
    return segment.get(1), segment.get(2), segment.get(3)
