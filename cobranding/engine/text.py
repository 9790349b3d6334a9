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


SEPARATOR = " · "


@dataclass(frozen=True)
class Fitted:
    """The chosen font size and the rows drawn at it (one field per row, or several fields
    sharing a row, joined by ``SEPARATOR``, when one per row would not fit the height)."""

    size: float
    rows: tuple[str, ...]


def _pack(
    lines: list[Line], size: float, width: float, text_width: Callable[[str, float], float]
) -> list[str] | None:
    """``lines`` greedily joined into rows no wider than ``width`` (None: a line is too wide)."""
    rows: list[str] = []
    for line in lines:
        if text_width(line.text, size) > width:
            return None
        if rows and text_width(rows[-1] + SEPARATOR + line.text, size) <= width:
            rows[-1] = rows[-1] + SEPARATOR + line.text
        else:
            rows.append(line.text)
    return rows


def rows_at(
    lines: list[Line],
    size: float,
    *,
    width: float,
    height: float,
    line_height: Callable[[float], float],
    text_width: Callable[[str, float], float],
    **_: object,
) -> list[str] | None:
    """The rows ``lines`` take at ``size`` in ``width`` × ``height`` (one line per row if that
    fits, else packed), or None when they do not fit."""
    if not lines:
        return []
    stacked = [line.text for line in lines]
    if len(stacked) * line_height(size) <= height and all(
        text_width(text, size) <= width for text in stacked
    ):
        return stacked
    rows = _pack(lines, size, width, text_width)
    if rows is None:
        return None
    return rows if len(rows) * line_height(size) <= height else None


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
) -> Fitted:
    """The largest of ``sizes`` (ascending) at which ``lines`` fit ``width`` × ``height``:
    one line per row when that fits, else lines sharing rows (never cut, never re-ordered).

    Fitting is monotonic in the size (smaller text is never wider or taller, and packs into no
    more rows), so a binary search finds it in a few measurements."""

    def at(size: float) -> list[str] | None:
        return rows_at(
            lines, size, width=width, height=height, line_height=line_height, text_width=text_width
        )

    if not lines:
        return Fitted(sizes[-1], ())
    smallest = sizes[0]
    if at(smallest) is None:
        too_wide = [line for line in lines if text_width(line.text, smallest) > width]
        if too_wide:
            widest = max(too_wide, key=lambda line: text_width(line.text, smallest))
            raise TextDoesNotFit(
                f"{where}: the {widest.field.replace('_', ' ')} “{widest.text}” does not fit "
                f"the zone's width even at {smallest:g} {unit}; make the zone wider.",
                zone=where,
                field=widest.field,
            )
        raise TextDoesNotFit(
            f"{where}: its {len(lines)} lines do not fit the zone's height even at "
            f"{smallest:g} {unit}; make the zone taller or leave out a field.",
            zone=where,
            field=lines[-1].field,
        )
    low, high = 0, len(sizes) - 1  # sizes[low] fits
    while low < high:
        middle = (low + high + 1) // 2
        if at(sizes[middle]) is not None:
            low = middle
        else:
            high = middle - 1
    return Fitted(sizes[low], tuple(at(sizes[low]) or ()))
