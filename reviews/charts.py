"""Server-rendered SVG charts: no JavaScript, the same markup on pages and in PDFs.

Pure: numbers in, an SVG string out.  Every text is escaped here; templates
mark the result safe.  The words are in the reader's language (gettext: English
outside a request).

Colours: each mark carries its light colour as an attribute, which the PDFs use
as it is (print.css sets none), and a class (c-ink, c-bar ...) through which
app.css gives it the page's palette, dark too.  Size: on a page a drawing
scales with its box; where that box is phone-narrow, app.css sets larger text
(container queries on .chart-figure), so the layouts here leave that text room:
counts centred in wide slots, names on a line of their own above their bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from reviews.calibration.scoring import Bucket
from reviews.languages import gettext, ngettext, percent

BRAND = "#2454b3"
INK = "#1d2330"
MUTED = "#555f70"
BAND = "#dce6f8"
WARN = "#a32020"
GRID = "#e3e7ee"


NARROW = frozenset("fijlrtI!|.,:;'()[] ")
WIDE = frozenset("mwMW@%")


def _text_width(text: str, font_size: int = 12) -> float:
    """An estimate of `text`'s width in px, on the wide side: advances of DejaVu Sans (the
    PDFs' font and wider than the web page's), by character class."""
    ems = sum(
        0.32 if ch in NARROW else 0.98 if ch in WIDE else 0.74 if ch.isupper() else 0.64
        for ch in text
    )
    return ems * font_size


def _fit(text: str, width: float, font_size: int = 12) -> str:
    """`text`, cut with an ellipsis when it would run wider than `width` px."""
    if _text_width(text, font_size) <= width:
        return text
    while text and _text_width(text + "\u2026", font_size) > width:
        text = text[:-1]
    return text.rstrip() + "\u2026"


def distribution_svg(buckets: Sequence[Bucket], labels: Sequence[str], title: str) -> Markup:
    """Bars of actual shares per rating over the guidance target and its tolerance band."""
    width, height = 640, 260
    # The top leaves room for a count set twice as large on a phone.
    left, right, top, bottom = 48, 16, 30, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    top_share = max([0.5] + [max(b.share, b.high) for b in buckets])
    scale = plot_h / top_share
    slot = plot_w / len(buckets)
    bar_w = slot * 0.5
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="dist-title dist-desc" '
        f'class="chart distribution-chart">',
        f'<title id="dist-title">{escape(title)}</title>',
        '<desc id="dist-desc">'
        + escape(
            "; ".join(
                ngettext(
                    "%(label)s: %(num)d person, %(share)s against a target of %(target)s",
                    "%(label)s: %(num)d people, %(share)s against a target of %(target)s",
                    b.count,
                    label=labels[i],
                    share=percent(b.share),
                    target=percent(b.target),
                )
                for i, b in enumerate(buckets)
            )
        )
        + "</desc>",
    ]
    band_title = escape(gettext("Guidance band"))
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        if tick > top_share + 1e-9:
            break
        y = top + plot_h - tick * scale
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1" class="c-grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{MUTED}" class="c-muted tick">{percent(tick)}</text>'
        )
    for i, b in enumerate(buckets):
        x = left + i * slot + (slot - bar_w) / 2
        band_top = top + plot_h - b.high * scale
        band_h = (b.high - b.low) * scale
        parts.append(
            f'<rect x="{x - 8:.1f}" y="{band_top:.1f}" width="{bar_w + 16:.1f}" '
            f'height="{band_h:.1f}" fill="{BAND}" class="c-band">'
            f"<title>{band_title}</title></rect>"
        )
        bar_h = b.share * scale
        colour, role = (WARN, "c-warn") if b.outside else (BRAND, "c-bar")
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" '
            f'height="{bar_h:.1f}" fill="{colour}" class="bar {role}"/>'
        )
        target_y = top + plot_h - b.target * scale
        parts.append(
            f'<line x1="{x - 8:.1f}" x2="{x + bar_w + 8:.1f}" y1="{target_y:.1f}" '
            f'y2="{target_y:.1f}" stroke="{INK}" stroke-width="2" '
            f'stroke-dasharray="4 3" class="c-ink"/>'
        )
        # Above the bar and above the guidance band, so the target line never crosses it.
        label_y = top + plot_h - max(b.share, b.high) * scale - 6
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{label_y:.1f}" '
            f'text-anchor="middle" font-size="12" font-weight="700" fill="{INK}" '
            f'class="c-ink count">{b.count} ({percent(b.share)})</text>'
        )
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 18}" '
            f'text-anchor="middle" font-size="12" fill="{INK}" class="c-ink label">'
            f"{escape(labels[i])}</text>"
        )
        sign = "+" if b.deviation > 0 else ""
        deviation = f"{sign}{b.deviation * 100:.0f}"
        points = gettext("%(points)s pts", points=deviation)
        fill, role = (WARN, "c-warn") if b.outside else (MUTED, "c-muted")
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 34}" '
            f'text-anchor="middle" font-size="11" fill="{fill}" class="{role} deviation">'
            f"{escape(points)}</text>"
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}" stroke="{INK}" stroke-width="1" class="c-ink"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every interpolated text is escaped above


def ratings_svg(rows: Sequence[tuple[str, int | None, int]], title: str) -> Markup:
    """One row per competency: its name above, the final rating as a bar, the expectation
    as a marker.

    `rows` holds (competency name, final rating or None, expected rating).  The names
    sit on a line of their own, so that on a phone, where app.css sets them half as
    large again, they have the drawing's width and push no bar aside; the rows are
    as tall as that needs and no taller (the PDF keeps the plan's pages).
    """
    width, left, right = 480, 8, 12  # about 12 px text in the PDF's 13 cm
    row_h, top = 30, 22
    plot_w = width - left - right
    step = plot_w / 5
    bottom = top + row_h * len(rows)
    bar_legend = escape(gettext("final rating (red: below expectation)"))
    marker_legend = escape(gettext("expected at target level"))
    height = bottom + 52
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="ratings-title ratings-desc" class="chart ratings-chart">',
        f'<title id="ratings-title">{escape(title)}</title>',
        '<desc id="ratings-desc">'
        + escape(
            "; ".join(
                gettext("%(name)s: rated none, expected %(expected)s", name=name, expected=expected)
                if rating is None
                else gettext(
                    "%(name)s: rated %(rating)s, expected %(expected)s",
                    name=name,
                    rating=rating,
                    expected=expected,
                )
                for name, rating, expected in rows
            )
        )
        + "</desc>",
    ]
    for value in range(6):
        x = left + value * step
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{bottom}" '
            f'stroke="{GRID}" stroke-width="1" class="c-grid"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{top - 8}" text-anchor="middle" font-size="11" '
            f'fill="{MUTED}" class="c-muted tick">{value}</text>'
        )
    for i, (name, rating, expected) in enumerate(rows):
        y = top + i * row_h
        # Cut to two thirds of the width: whole at the phone's half as large again.
        parts.append(
            f'<text x="{left}" y="{y + 12}" font-size="12" fill="{INK}" class="c-ink name">'
            f"{escape(_fit(name, plot_w * 2 / 3))}</text>"
        )
        if rating is not None:
            short = rating < expected
            fill, role = (WARN, "c-warn") if short else (BRAND, "c-bar")
            parts.append(
                f'<rect x="{left}" y="{y + 17}" width="{rating * step:.1f}" height="9" '
                f'rx="3" fill="{fill}" class="bar {role}"/>'
            )
        ex = left + expected * step
        parts.append(
            f'<line x1="{ex:.1f}" x2="{ex:.1f}" y1="{y + 14}" y2="{y + 29}" '
            f'stroke="{INK}" stroke-width="3" class="expected c-ink"/>'
        )
    # The two keys on lines of their own: room for the phone's larger text.
    legend_y = bottom + 22
    parts.append(
        f'<rect x="{left}" y="{legend_y - 10}" width="14" height="10" fill="{BRAND}" '
        f'class="c-bar"/>'
        f'<text x="{left + 20}" y="{legend_y}" font-size="11" fill="{MUTED}" '
        f'class="c-muted key">{bar_legend}</text>'
        f'<line x1="{left + 7}" x2="{left + 7}" y1="{legend_y + 10}" y2="{legend_y + 24}" '
        f'stroke="{INK}" stroke-width="3" class="c-ink"/>'
        f'<text x="{left + 20}" y="{legend_y + 22}" font-size="11" fill="{MUTED}" '
        f'class="c-muted key">{marker_legend}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every interpolated text is escaped above


def completion_svg(rows: Sequence[tuple[str, int, int]], title: str) -> Markup:
    """One bar per phase: its name above, done of total and the percentage beside it.

    Narrow on purpose (about 370 units): it sits in half a dashboard row, so its
    12-unit text stays about 11 px there instead of shrinking with a wide drawing.
    """
    row_h, plot_w, top, bar_h = 40, 220, 4, 14
    shares = [done / total if total else 0.0 for _, done, total in rows]
    figures = [
        f"{done}/{total} ({percent(share)})"
        for (_, done, total), share in zip(rows, shares, strict=True)
    ]
    figure_w = 16 + max((_text_width(text) for text in figures), default=0)  # "(100%)" never cut
    width, height = plot_w + round(figure_w), top + row_h * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-labelledby="completion-title completion-desc" '
        f'class="chart completion-chart">',
        f'<title id="completion-title">{escape(title)}</title>',
        '<desc id="completion-desc">'
        + escape(
            "; ".join(
                gettext("%(label)s: %(done)s of %(total)s", label=label, done=done, total=total)
                for label, done, total in rows
            )
        )
        + "</desc>",
    ]
    for i, ((label, _, _), share, figure) in enumerate(zip(rows, shares, figures, strict=True)):
        y = top + i * row_h
        parts.append(
            f'<text x="0" y="{y + 12}" font-size="12" '
            f'fill="{INK}" class="c-ink">{escape(_fit(label, width))}</text>'
        )
        parts.append(
            f'<rect x="0" y="{y + 18}" width="{plot_w}" height="{bar_h}" rx="3" '
            f'fill="{GRID}" class="c-track"/>'
        )
        parts.append(
            f'<rect x="0" y="{y + 18}" width="{plot_w * share:.1f}" '
            f'height="{bar_h}" rx="3" fill="{BRAND}" class="bar c-bar"/>'
        )
        parts.append(
            f'<text x="{plot_w + 8}" y="{y + 30}" font-size="12" fill="{INK}" class="c-ink">'
            f"{figure}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # every interpolated text is escaped above
