"""Brand colours: hex validation and the WCAG 2.x contrast check against white text.

The header and the buttons print white text on the brand's primary and accent colours, so a
colour is accepted only when white text on it reaches WCAG AA for normal text (4.5:1).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: WCAG 2.x AA for normal-size text.
AA_NORMAL_TEXT = 4.5
WHITE = "#ffffff"


def relative_luminance(color: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour (0 black .. 1 white)."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 .. 21)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def validate_hex_color(value: str) -> None:
    """Refuse anything but ``#rrggbb`` (the value is written into a stylesheet)."""
    if not isinstance(value, str) or not HEX_COLOR.match(value):
        raise ValidationError(
            _("Enter a colour as # and six hexadecimal digits, for example #0a58ca."),
            code="invalid_color",
        )


def validate_white_text_contrast(value: str) -> None:
    """Refuse a colour on which white text fails WCAG AA (4.5:1)."""
    validate_hex_color(value)
    ratio = contrast_ratio(value, WHITE)
    if ratio < AA_NORMAL_TEXT:
        raise ValidationError(
            _(
                "White text on %(color)s has a contrast of %(ratio).1f:1; at least 4.5:1 is "
                "needed (WCAG AA). Choose a darker colour."
            ),
            code="low_contrast",
            params={"color": value, "ratio": ratio},
        )
