"""Fixed labels for a chart's points only where they have room: each point's label takes the first place
around it that covers no other label and no other point, inside the plot; the rest are left to hover text."""
from __future__ import annotations

from .compare import Point

# The plot area of Compare's trade-off chart at its narrowest (a projector's 1024 px window, less the margins)
# and a label's size, in pixels.
PLOT_PX = (480.0, 300.0)
LABEL_CHAR_PX, LABEL_HEIGHT_PX, MARKER_PX = 6.5, 14.0, 12.0
Box = tuple[float, float, float, float]         # left, bottom, right, top


def short_labels(pts: list[Point]) -> list[str]:
    """Each point's setting, less the variant's name where its whole line shares it (the legend names the line):
    'λ=0.0001' on the λ sweep of sparse_l1."""
    labels = []
    for p in pts:
        line = [q.setting for q in pts if q.group == p.group]
        first = p.setting.split(" ", 1)[0] + " "
        shared = len(line) > 1 and all(s.startswith(first) and len(s) > len(first) for s in line)
        labels.append(p.setting.removeprefix(first) if shared else p.setting)
    return labels


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def label_places(xs: list[float], ys: list[float], labels: list[str]) -> list[str | None]:
    """Where each point's fixed label fits (a Plotly textposition) inside the plot without covering another
    label or point, or None (the hover text tells it): each point in turn takes the first place that fits."""
    width, height = PLOT_PX

    def pixels(values: list[float], size: float) -> list[float]:   # as autorange draws them: 5 % margins
        low, span = min(values), (max(values) - min(values)) or 1.0
        return [size * (0.05 + 0.9 * (v - low) / span) for v in values]

    centres = list(zip(pixels(xs, width), pixels(ys, height), strict=True))
    half = MARKER_PX / 2
    markers = [(x - half, y - half, x + half, y + half) for x, y in centres]
    kept: list[Box] = []
    places: list[str | None] = []
    for i, ((x, y), label) in enumerate(zip(centres, labels, strict=True)):
        w, h = len(label) * LABEL_CHAR_PX, LABEL_HEIGHT_PX
        rows = {"top": y + half, "middle": y - h / 2, "bottom": y - half - h}      # each place's bottom edge
        columns = {"center": x - w / 2, "right": x + half, "left": x - half - w}    # … and its left edge
        options: dict[str, Box] = {f"{row} {column}": (left, bottom, left + w, bottom + h)
                                   for row, bottom in rows.items() for column, left in columns.items()
                                   if (row, column) != ("middle", "center")}
        place = next((name for name, box in options.items()
                      if box[0] >= 0 and box[1] >= 0 and box[2] <= width and box[3] <= height
                      and not any(_overlap(box, other) for other in kept)
                      and not any(_overlap(box, m) for j, m in enumerate(markers) if j != i)), None)
        if place is not None:
            kept.append(options[place])
        places.append(place)
    return places
