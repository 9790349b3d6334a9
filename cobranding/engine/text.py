"""Fitting a text zone's lines into its box: the largest size from ``font_size`` down to
``min_font_size`` at which every line fits the box's width and all lines its height, or
``TextDoesNotFit`` (never clipped, never shortened with an ellipsis)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import TextDoesNotFit
from .fonts import check_coverage
from .kit import BrandKit
from .layout import TextZone


@dataclass(frozen=True)
class Line:
    text: str
    field: str


def zone_lines(zone: TextZone, kit: BrandKit) -> list[Line]:
    """The zone's lines (blank fields skipped), each checked against the font's coverage."""
    lines: list[Line] = []
    for field in zone.fields:
        for text in kit.lines(field):
            check_coverage(text, field)
            lines.append(Line(text, field))
    return lines


def fit(
    lines: list[Line],
    *,
    width: float,
    height: float,
    sizes: list[float],
    line_height: Callable[[float], float],
    text_width: Callable[[str, float], float],
    where: str,
    unit: str,
) -> float:
    """The largest of ``sizes`` (ascending) at which ``lines`` fit ``width`` × ``height``.

    Fitting is monotonic in the size (smaller text is never wider or taller), so a binary
    search finds it in a few measurements."""

    def fits(size: float) -> bool:
        if len(lines) * line_height(size) > height:
            return False
        return all(text_width(line.text, size) <= width for line in lines)

    if not lines:
        return sizes[-1]
    if not fits(sizes[0]):
        smallest = sizes[0]
        if len(lines) * line_height(smallest) > height:
            raise TextDoesNotFit(
                f"{where}: its {len(lines)} lines do not fit the zone's height even at "
                f"{smallest:g} {unit}; make the zone taller or leave out a field.",
                zone=where,
                field=lines[-1].field,
            )
        widest = max(lines, key=lambda line: text_width(line.text, smallest))
        raise TextDoesNotFit(
            f"{where}: the {widest.field.replace('_', ' ')} “{widest.text}” does not fit "
            f"the zone's width even at {smallest:g} {unit}; make the zone wider.",
            zone=where,
            field=widest.field,
        )
    low, high = 0, len(sizes) - 1  # sizes[low] fits
    while low < high:
        middle = (low + high + 1) // 2
        if fits(sizes[middle]):
            low = middle
        else:
            high = middle - 1
    return sizes[low]
