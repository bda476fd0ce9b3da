"""Geometry of the pathway timeline: where each dated mark goes in the inline SVG. Pure.

One shared time axis for the three lanes (DVT, lesion, stent). In the lesion lane, marks with a
percentage (IVUS and CT stenosis) are plotted by value against the IVUS threshold line; everything
else sits on its lane's line. Labels alternate above and below so that neighbours do not collide.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cds_service.smart.view_model import AxisRow, Mark

WIDTH = 1000
LEFT = 205  # lane titles to the left of this
RIGHT = 975
AXIS_HEIGHT = 26
LANE_HEIGHT = {"dvt": 96, "lesion": 172, "stent": 96}
BAND_TOP, BAND_BOTTOM = 14, 100  # the lesion lane's 0-100 % band, from the lane's top
LABEL_CHARS = 40
CHAR_WIDTH = 5.6  # average width of a character at the labels' 10.5 px
LABEL_OFFSETS = (-8, 17, -20, 29, -32, 41)  # label baselines tried, nearest the mark first
TICKS = 6
Box = tuple[float, float, float, float]  # left, top, right, bottom of a label


@dataclass(frozen=True)
class PlacedMark:
    x: float
    y: float
    label_y: float
    text: str
    mark: Mark
    anchor: str  # SVG text-anchor: labels near an edge grow inwards


@dataclass(frozen=True)
class Lane:
    row: AxisRow
    top: float
    height: float
    line_y: float
    marks: tuple[PlacedMark, ...]
    undated: tuple[Mark, ...]


@dataclass(frozen=True)
class Threshold:
    y: float
    band_top: float
    band_bottom: float
    label: str


@dataclass(frozen=True)
class Layout:
    width: int
    height: float
    left: int
    right: int
    ticks: tuple[tuple[float, str], ...]
    now_x: float
    lanes: tuple[Lane, ...]
    threshold: Threshold | None


def _span(rows: tuple[AxisRow, ...], now: datetime) -> tuple[datetime, datetime]:
    dates = [m.when for row in rows for m in row.marks if m.when is not None] + [now]
    start, end = min(dates), max(dates)
    pad = max((end - start) * 0.04, timedelta(days=3))
    return start - pad, end + pad


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def layout(rows: tuple[AxisRow, ...], now: datetime, threshold_pct: float) -> Layout:
    start, end = _span(rows, now)
    seconds = (end - start).total_seconds()

    def x_of(when: datetime) -> float:
        return round(LEFT + (RIGHT - LEFT) * (when - start).total_seconds() / seconds, 1)

    lanes, threshold, top = [], None, float(AXIS_HEIGHT)
    for row in rows:
        height = LANE_HEIGHT.get(row.key, 96)
        y_of = None
        line_y, floor = top + height / 2, top
        if row.key == "lesion":
            band_top, band_bottom = top + BAND_TOP, top + BAND_BOTTOM
            line_y, floor = (band_bottom + top + height) / 2, band_bottom

            def y_of(percent: float, band_top=band_top, band_bottom=band_bottom) -> float:
                return round(band_bottom - (band_bottom - band_top) * max(0.0, min(percent, 100.0)) / 100, 1)

            threshold = Threshold(y_of(threshold_pct), band_top, band_bottom, f"IVUS threshold {threshold_pct:g} %")
        lanes.append(_lane(row, top, height, line_y, floor, x_of, y_of))
        top += height
    ticks = tuple((x_of(start + (end - start) * i / (TICKS - 1)),
                   (start + (end - start) * i / (TICKS - 1)).date().isoformat()) for i in range(TICKS))
    return Layout(WIDTH, top + 4, LEFT, RIGHT, ticks, x_of(now), tuple(lanes), threshold)


def _lane(row: AxisRow, top: float, height: float, line_y: float, floor: float, x_of, y_of) -> Lane:
    dated = sorted((m for m in row.marks if m.when is not None), key=lambda m: m.when or datetime.min)
    placed: list[PlacedMark] = []
    boxes: list[Box] = []
    for mark in dated:
        on_value = y_of is not None and mark.percent is not None
        y = y_of(mark.percent) if on_value else line_y
        upper = top if on_value else floor  # labels of the lesion lane's baseline stay below the band
        x = x_of(mark.when)
        text = _short(f"{mark.short or mark.label} {mark.value}".strip())
        anchor = "start" if x < LEFT + 90 else "end" if x > RIGHT - 90 else "middle"
        label_y, box = _free_label_spot(x, y, text, anchor, upper + 2, top + height - 3, boxes)
        if box is not None:
            boxes.append(box)
        placed.append(PlacedMark(x, y, label_y or y, text if box is not None else "", mark, anchor))
    undated = tuple(m for m in row.marks if m.when is None)
    return Lane(row, top, height, line_y, tuple(placed), undated)


def _free_label_spot(x: float, y: float, text: str, anchor: str, upper: float, lower: float,
                     taken: list[Box]) -> tuple[float, Box] | tuple[None, None]:
    """The nearest label baseline inside the lane whose box overlaps no label placed before."""
    width = len(text) * CHAR_WIDTH
    left = x - width / 2 if anchor == "middle" else x if anchor == "start" else x - width
    candidates = []
    for offset in LABEL_OFFSETS:
        box = (left, y + offset - 10, left + width, y + offset + 2)
        if box[1] >= upper and box[3] <= lower:
            candidates.append((y + offset, box))
    for label_y, box in candidates:
        if not any(_overlap(box, other) for other in taken):
            return label_y, box
    return None, None  # no free spot: no label (the mark's tooltip and the list below carry it)


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
