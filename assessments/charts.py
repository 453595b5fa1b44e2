"""Server-rendered SVG trend charts for one questionnaire (no JavaScript).

The SVG is built with ElementTree, so every text and attribute is escaped and the output
is well-formed; attribute order and number formatting are fixed, so the same input always
gives the same string. Measurements are spaced evenly (one slot per administration, as in
session-by-session outcome charts) and labelled with their German dates.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from typing import cast

from assessments.instruments import (
    CSSRS_LEVELS,
    FLAG_LABELS_DE,
    INSTRUMENTS,
    SAFETY_FLAGS,
    Band,
    Instrument,
    Number,
    auditc_bands,
)
from assessments.scoring import compare, parse_total

SVG_NS = "http://www.w3.org/2000/svg"

_PAD_LEFT = 44
_PAD_RIGHT = 170  # room for the band labels
_PAD_TOP = 26
_PAD_BOTTOM = 34
_MIN_WIDTH = 320
_MIN_HEIGHT = 160
_X_LABEL_SPACING = 64  # px per date label before labels are thinned out

# Band tints from best to worst; picked by position so 2–5 bands spread over the range.
_TINTS = ("#e3f2e6", "#eef6dc", "#fdf3d6", "#fbe4cf", "#f7d6d6")
_INK = "#1f3a5f"
_IMPROVED = "#1b7f3b"
_WORSE = "#b3261e"

Point = tuple[dt.date, object, Iterable[str] | None]


def trend_svg(
    code: str,
    points: Sequence[Point],
    *,
    width: int = 640,
    height: int = 260,
    cutoff: Number | None = None,
) -> str:
    """Return an SVG of totals over time: bands, cut-off line, reliable-change markers.

    points: (date, total, flags) sorted by date; for the C-SSRS the "total" is the risk
    level ("none" … "high", or 0–3). `cutoff` overrides the instrument's cut-off (PCL-5
    custom cut-off) and is needed to draw AUDIT-C bands, whose cut-off depends on sex.
    Raises ValueError for an unknown code, bad sizes or invalid points.
    """
    instrument = INSTRUMENTS.get(code) if isinstance(code, str) else None
    if instrument is None:
        raise ValueError("Unbekannter Fragebogen.")
    if width < _MIN_WIDTH or height < _MIN_HEIGHT:
        raise ValueError(f"Diagramm braucht mindestens {_MIN_WIDTH}×{_MIN_HEIGHT} Pixel.")
    chart = _Chart(instrument, width, height, cutoff)
    return chart.render([chart.parse_point(n, p) for n, p in enumerate(points, 1)])


class _Chart:
    def __init__(self, instrument: Instrument, width: int, height: int, cutoff: Number | None):
        self.instrument = instrument
        self.width, self.height = width, height
        self.ordinal = not instrument.has_total  # C-SSRS: risk level 0–3
        self.cutoff, self.cutoff_rule = self._cutoff(cutoff)
        self.bands = self._bands()
        if self.ordinal:
            self.y_min, self.y_max = -0.5, len(CSSRS_LEVELS) - 0.5
        else:
            assert instrument.min_total is not None and instrument.max_total is not None  # has_total
            self.y_min = float(instrument.min_total)
            self.y_max = float(instrument.max_total)
        self.left, self.right = _PAD_LEFT, width - _PAD_RIGHT
        self.top, self.bottom = _PAD_TOP, height - _PAD_BOTTOM

    # --- input ---------------------------------------------------------------------

    def _cutoff(self, override: Number | None) -> tuple[Number | None, str | None]:
        instrument = self.instrument
        if override is None:
            return instrument.cutoff, instrument.cutoff_rule
        if self.ordinal:
            raise ValueError(f"{instrument.short_name} hat keinen Cut-off.")
        value = parse_total(instrument.code, override, label="Cut-off")
        assert instrument.min_total is not None  # parse_total refuses instruments without a total
        if value <= instrument.min_total:
            raise ValueError("Cut-off: Wert liegt außerhalb des Wertebereichs.")
        return value, instrument.cutoff_rule or ">="

    def _bands(self) -> tuple[Band, ...]:
        if self.instrument.code == "auditc" and self.cutoff is not None:
            return auditc_bands(int(self.cutoff))
        return self.instrument.bands

    def parse_point(self, n: int, point: Point) -> tuple[dt.date, Number, frozenset[str]]:
        try:
            day, total, flags = point
        except (TypeError, ValueError):
            raise ValueError(f"Messung {n}: erwartet (Datum, Wert, Hinweise).") from None
        if isinstance(day, dt.datetime):
            day = day.date()
        if not isinstance(day, dt.date):
            raise ValueError(f"Messung {n}: Datum fehlt.")
        if self.ordinal:
            if isinstance(total, str) and total in CSSRS_LEVELS:
                value: Number = CSSRS_LEVELS.index(total)
            elif isinstance(total, int) and not isinstance(total, bool) and 0 <= total <= 3:
                value = total
            else:
                raise ValueError(f"Messung {n}: Risikostufe none/low/moderate/high erwartet.")
        else:
            value = parse_total(self.instrument.code, total, label=f"Messung {n}")
        if isinstance(flags, str):
            raise ValueError(f"Messung {n}: Hinweise als Menge von Kennungen erwartet.")
        return day, value, frozenset(flags or ())

    # --- geometry ------------------------------------------------------------------

    def y(self, value: float) -> float:
        span = self.y_max - self.y_min
        return self.bottom - (float(value) - self.y_min) / span * (self.bottom - self.top)

    def x(self, index: int, count: int) -> float:
        if count == 1:
            return (self.left + self.right) / 2
        inset = 16  # keep first and last markers off the axis
        return self.left + inset + index * (self.right - self.left - 2 * inset) / (count - 1)

    def _band_edges(self) -> list[tuple[float, float]]:
        """Visual extent of each band: halfway between one band's upper and the next's lower."""
        edges = []
        for i, band in enumerate(self.bands):
            low = self.y_min if i == 0 else (float(self.bands[i - 1].upper) + float(band.lower)) / 2
            last = i == len(self.bands) - 1
            high = self.y_max if last else (float(band.upper) + float(self.bands[i + 1].lower)) / 2
            edges.append((low, high))
        return edges

    def _tint(self, index: int) -> str:
        count = len(self.bands)
        rank = index if self.instrument.higher_is_worse else count - 1 - index
        position = 0 if count == 1 else round(rank * (len(_TINTS) - 1) / (count - 1))
        return _TINTS[position]

    # --- text ----------------------------------------------------------------------

    def value_text(self, value: Number) -> str:
        if self.ordinal:
            return self.bands[int(value)].label_de
        return str(value).replace(".", ",")

    def band_text(self, value: Number) -> str:
        if self.ordinal:
            return ""
        for band in self.bands:
            if band.lower <= value <= band.upper:
                return f" ({band.label_de})"
        return ""

    # --- output --------------------------------------------------------------------

    def render(self, points: list[tuple[dt.date, Number, frozenset[str]]]) -> str:
        for n in range(1, len(points)):
            if points[n][0] < points[n - 1][0]:
                raise ValueError(f"Messung {n + 1}: Messungen müssen nach Datum sortiert sein.")
        changes = self._changes(points)
        label = self._summary(points, changes)
        svg = ET.Element(
            "svg",
            {
                "xmlns": SVG_NS,
                "class": f"trend trend-{self.instrument.code}",
                "width": str(self.width),
                "height": str(self.height),
                "viewBox": f"0 0 {self.width} {self.height}",
                "role": "img",
                "aria-label": label,
                "font-family": "system-ui, sans-serif",
                "font-size": "11",
            },
        )
        ET.SubElement(svg, "title").text = f"{self.instrument.short_name} – Verlauf"
        ET.SubElement(svg, "desc").text = self._description(points)
        self._draw_bands(svg)
        self._draw_axes(svg, points)
        self._draw_cutoff(svg)
        if points:
            self._draw_series(svg, points, changes)
        else:
            _text(
                svg,
                (self.left + self.right) / 2,
                (self.top + self.bottom) / 2,
                "Noch keine Messungen",
                {"class": "empty", "text-anchor": "middle", "fill": "#555"},
            )
        return ET.tostring(svg, encoding="unicode")

    def _changes(self, points: list) -> list[tuple[Number, set[str]] | None]:
        """Change from the previous point (positive = better) and its flags, per point."""
        result: list[tuple[Number, set[str]] | None] = [None]
        for previous, current in zip(points, points[1:]):
            if self.ordinal:
                result.append(None)
            else:
                result.append(compare(self.instrument.code, previous[1], current[1]))
        return result[: len(points)]

    def _summary(self, points: list, changes: list) -> str:
        name = self.instrument.short_name
        if not points:
            return f"{name}: noch keine Messungen."
        what = "der Risikostufe" if self.ordinal else "der Summenwerte"
        count = "1 Messung" if len(points) == 1 else f"{len(points)} Messungen"
        first, last = _date(points[0][0]), _date(points[-1][0])
        span = f"am {first}" if len(points) == 1 else f"vom {first} bis {last}"
        value = points[-1][1]
        text = (
            f"{name}: Verlauf {what}, {count} {span}; "
            f"letzter Wert {self.value_text(value)}{self.band_text(value)}."
        )
        reliable = sum(1 for c in changes if c and _reliable(c[1]))
        if reliable:
            text += f" Reliable Veränderungen: {reliable}."
        return text

    def _description(self, points: list) -> str:
        if not points:
            return "Keine Daten."
        return "; ".join(
            f"{_date(day)}: {self.value_text(value)}{self.band_text(value)}"
            for day, value, _flags in points
        )

    def _draw_bands(self, svg: ET.Element) -> None:
        group = ET.SubElement(svg, "g", {"class": "bands"})
        for i, (band, (low, high)) in enumerate(zip(self.bands, self._band_edges())):
            top, bottom = self.y(high), self.y(low)
            rect = ET.SubElement(
                group,
                "rect",
                {
                    "class": f"band band-{band.label}",
                    "data-band": band.label,
                    "data-lower": str(band.lower),
                    "data-upper": str(band.upper),
                    "x": _f(self.left),
                    "y": _f(top),
                    "width": _f(self.right - self.left),
                    "height": _f(bottom - top),
                    "fill": self._tint(i),
                },
            )
            if self.ordinal:
                range_text = ""
            else:
                range_text = f" ({_num(band.lower)}–{_num(band.upper)})"
            ET.SubElement(rect, "title").text = f"{band.label_de}{range_text}"
            _text(
                group,
                self.right + 6,
                (top + bottom) / 2 + 4,
                band.label_de,
                {"class": "band-label", "fill": "#444"},
            )

    def _draw_axes(self, svg: ET.Element, points: list) -> None:
        axis_y = ET.SubElement(svg, "g", {"class": "axis axis-y"})
        _text(
            axis_y,
            4,
            self.top - 10,
            "Risikostufe" if self.ordinal else "Summenwert",
            {"class": "axis-title", "fill": "#444"},
        )
        if not self.ordinal:
            for tick in self._ticks():
                y = self.y(tick)
                ET.SubElement(
                    axis_y,
                    "line",
                    {"x1": _f(self.left), "x2": _f(self.right), "y1": _f(y), "y2": _f(y),
                     "stroke": "#000", "stroke-opacity": "0.08"},
                )
                _text(axis_y, self.left - 6, y + 4, _num(tick),
                      {"class": "y-label", "text-anchor": "end", "fill": "#444"})
        ET.SubElement(
            axis_y,
            "line",
            {"x1": _f(self.left), "x2": _f(self.left), "y1": _f(self.top),
             "y2": _f(self.bottom), "stroke": "#666"},
        )
        axis_x = ET.SubElement(svg, "g", {"class": "axis axis-x"})
        ET.SubElement(
            axis_x,
            "line",
            {"x1": _f(self.left), "x2": _f(self.right), "y1": _f(self.bottom),
             "y2": _f(self.bottom), "stroke": "#666"},
        )
        for index in self._labelled(len(points)):
            _text(
                axis_x,
                self.x(index, len(points)),
                self.bottom + 16,
                _date(points[index][0]),
                {"class": "x-label", "text-anchor": "middle", "fill": "#444"},
            )

    def _ticks(self) -> list[int]:
        span = self.y_max - self.y_min
        step = next(s for s in (1, 2, 5, 10, 20, 50) if span / s <= 6)
        return list(range(int(self.y_min), int(self.y_max) + 1, step))

    def _labelled(self, count: int) -> list[int]:
        """Indices of points that get a date label; always the first and the last."""
        if count == 0:
            return []
        room = max(2, int((self.right - self.left) // _X_LABEL_SPACING))
        if count <= room:
            return list(range(count))
        step = math.ceil((count - 1) / (room - 1))
        indices = list(range(0, count - 1, step))
        if count - 1 - indices[-1] < step / 2:
            indices.pop()  # too close to the last label
        return [*indices, count - 1]

    def _draw_cutoff(self, svg: ET.Element) -> None:
        if self.cutoff is None:
            return
        # Draw the line on the decision boundary: between 32 and 33 for "≥ 33", between
        # 25.0 and 25.1 for "≤ 25", so it lines up with the band edges.
        half_step = 0.05 if self.instrument.decimal_places else 0.5
        offset = -half_step if self.cutoff_rule == ">=" else half_step
        y = self.y(float(self.cutoff) + offset)
        rule = "≥" if self.cutoff_rule == ">=" else "≤"
        label = f"Cut-off {rule} {_num(self.cutoff)}"
        group = ET.SubElement(svg, "g", {"class": "cutoff", "data-value": str(self.cutoff)})
        line = ET.SubElement(
            group,
            "line",
            {"class": "cutoff-line", "x1": _f(self.left), "x2": _f(self.right),
             "y1": _f(y), "y2": _f(y), "stroke": _WORSE, "stroke-width": "1.5",
             "stroke-dasharray": "6 4"},
        )
        ET.SubElement(line, "title").text = label
        _text(group, self.left + 4, y - 4, label, {"class": "cutoff-label", "fill": _WORSE})

    def _draw_series(self, svg: ET.Element, points: list, changes: list) -> None:
        count = len(points)
        coords = [(self.x(i, count), self.y(point[1])) for i, point in enumerate(points)]
        if count > 1:
            ET.SubElement(
                svg,
                "polyline",
                {"class": "trend-line", "fill": "none", "stroke": _INK, "stroke-width": "1.5",
                 "points": " ".join(f"{_f(x)},{_f(y)}" for x, y in coords)},
            )
        group = ET.SubElement(svg, "g", {"class": "points"})
        for i, (day, value, flags) in enumerate(points):
            x, y = coords[i]
            kind, change_text = self._change_kind(changes[i])
            if kind:
                segment = ET.SubElement(
                    group,
                    "line",
                    {"class": f"change {kind}", "x1": _f(coords[i - 1][0]),
                     "y1": _f(coords[i - 1][1]), "x2": _f(x), "y2": _f(y),
                     "stroke": _IMPROVED if kind == "reliable-improvement" else _WORSE,
                     "stroke-width": "3"},
                )
                ET.SubElement(segment, "title").text = change_text
            node = ET.SubElement(
                group,
                "g",
                {"class": "point", "data-date": day.isoformat(), "data-value": str(value)},
            )
            tooltip = f"{_date(day)}: {self.value_text(value)}{self.band_text(value)}"
            if change_text:
                tooltip += f"; {change_text}"
            if flags:
                tooltip += "; Hinweise: " + ", ".join(
                    FLAG_LABELS_DE.get(flag, flag) for flag in sorted(flags)
                )
            ET.SubElement(node, "title").text = tooltip
            if flags & SAFETY_FLAGS:
                ET.SubElement(
                    node,
                    "circle",
                    {"class": "flag-ring", "cx": _f(x), "cy": _f(y), "r": "8", "fill": "none",
                     "stroke": _WORSE, "stroke-width": "2"},
                )
            _marker(node, kind, x, y)

    def _change_kind(self, change: tuple[Number, set[str]] | None) -> tuple[str, str]:
        if not change:
            return "", ""
        amount, flags = change
        threshold = _num(self.instrument.reliable_change)
        points = _num(cast(Number, abs(amount)))  # abs() of int | Decimal is typed as object
        if "RELIABLE_IMPROVEMENT" in flags:
            return "reliable-improvement", (
                f"Reliable Verbesserung um {points} Punkte (Schwelle {threshold})"
            )
        if "RELIABLE_DETERIORATION" in flags:
            return "reliable-deterioration", (
                f"Reliable Verschlechterung um {points} Punkte (Schwelle {threshold})"
            )
        return "", ""


def _reliable(flags: set[str]) -> bool:
    return bool(flags & {"RELIABLE_IMPROVEMENT", "RELIABLE_DETERIORATION"})


def _marker(parent: ET.Element, kind: str, x: float, y: float) -> None:
    """Circle for an ordinary point; shape *and* colour mark reliable change."""
    if kind == "reliable-improvement":
        shape = f"{_f(x)},{_f(y - 6)} {_f(x + 6)},{_f(y)} {_f(x)},{_f(y + 6)} {_f(x - 6)},{_f(y)}"
        ET.SubElement(parent, "polygon", {"class": f"marker {kind}", "points": shape,
                                          "fill": _IMPROVED})
    elif kind == "reliable-deterioration":
        shape = f"{_f(x)},{_f(y - 6)} {_f(x + 6)},{_f(y + 5)} {_f(x - 6)},{_f(y + 5)}"
        ET.SubElement(parent, "polygon", {"class": f"marker {kind}", "points": shape,
                                          "fill": _WORSE})
    else:
        ET.SubElement(parent, "circle", {"class": "marker", "cx": _f(x), "cy": _f(y), "r": "4",
                                         "fill": _INK})


def _text(parent: ET.Element, x: float, y: float, text: str, attrs: dict[str, str]) -> None:
    node = ET.SubElement(parent, "text", {"x": _f(x), "y": _f(y), **attrs})
    node.text = text


def _f(value: float) -> str:
    """Fixed-precision coordinate, so output is byte-for-byte deterministic."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _num(value: Number | float | None) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _date(day: dt.date) -> str:
    return day.strftime("%d.%m.%y")
