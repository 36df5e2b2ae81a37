"""The layer details pane: shapes, counts, bound and arithmetic intensity on the target,
unsupported ops, the layer's kernel path for the knobs (predicted before the variant is timed,
checked against its measured change after), and its figures in every variant explored.

Shapes are shown compactly (`compact_shapes`), never broken inside a shape: repeats counted
("1×64×56×56 (×3)"); a list wider than the pane (or than `SHAPES_CHARS`) cut in its middle
("a, b, … 12 more …, z"), and a very long shape between its dimensions, so a Concat of 64
inputs or a rank-8 tensor takes one line instead of wrapping down the pane; the whole list, one
shape a line, is the tooltip of the cut text. A resized pane cuts them again to its width.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QTextBrowser, QToolTip, QVBoxLayout, QWidget

from gui import plain_text
from gui.measured_change import layer_kernel_path
from gui.theme import current, fmt_bytes, fmt_count, fmt_ms
from profiler import units

#: the most characters a shape list takes before it is cut in the middle (a narrower pane: fewer)
SHAPES_CHARS = 60
_SHAPE_LINK = "shapes:"  # anchors over cut shape lists: their tooltip holds the whole list


def _shape_text(shape: Any, limit: int = SHAPES_CHARS) -> str:
    """ "1×64×56×56"; a longer one than `limit` keeps its first and last dimensions around "…"."""
    dims = [str(d) for d in shape]
    text = "×".join(dims) or "scalar"
    if len(text) <= limit or len(dims) < 3:
        return text
    head, tail = dims[:1], dims[-1:]
    for k in range(1, len(dims)):
        longer_head, longer_tail = dims[: k + 1], dims[-(k + 1) :]
        if len("×".join([*longer_head, "…", *tail])) <= limit and len(longer_head) + len(tail) < len(dims):
            head = longer_head
        if len("×".join([*head, "…", *longer_tail])) <= limit and len(head) + len(longer_tail) < len(dims):
            tail = longer_tail
    return "×".join([*head, "…", *tail])


def compact_shapes(shapes: Any, limit: int = SHAPES_CHARS) -> str:
    """The shapes on about one line: runs of one shape as "1×8 (×3)", a list over `limit`
    characters cut in the middle ("a, b, … 12 more …, z"; whole groups only), "—" for none."""
    groups: list[tuple[str, int]] = []
    for shape in shapes:
        text = _shape_text(shape, limit)
        if groups and groups[-1][0] == text:
            groups[-1] = (text, groups[-1][1] + 1)
        else:
            groups.append((text, 1))
    parts = [(t if n == 1 else f"{t} (×{n})", n) for t, n in groups]
    whole = ", ".join(p for p, _ in parts)
    if len(whole) <= limit or len(parts) == 1:
        return whole or "—"

    def text_of(h: list[tuple[str, int]], t: list[tuple[str, int]]) -> str:
        hidden = sum(n for _, n in parts) - sum(n for _, n in h) - sum(n for _, n in t)
        more = f"… {hidden} more …" if t else f"… {hidden} more"
        return ", ".join([*(p for p, _ in h), more, *(p for p, _ in t)])

    text = whole
    if len(parts) >= 3:
        head, tail = [parts[0]], [parts[-1]]  # both ends; then more from each while it fits
        for k in range(1, len(parts)):
            if len(head) + len(tail) >= len(parts) - 1:
                break
            grown = False
            if len(text_of(parts[: k + 1], tail)) <= limit:
                head, grown = parts[: k + 1], True
            if len(head) + len(tail) < len(parts) - 1 and len(text_of(head, parts[-(k + 1) :])) <= limit:
                tail, grown = parts[-(k + 1) :], True
            if not grown:
                break
        text = text_of(head, tail)
    if len(text) > limit:  # a narrow pane: the first shape and a count
        text = text_of(parts[:1], [])
    if len(text) > limit:
        more = f", … {sum(n for _, n in parts) - 1} more"
        text = _shape_text(shapes[0], max(5, limit - len(more))) + more
    return text


def full_shapes(shapes: Any, what: str) -> str:
    """Every shape, one a line, numbered: the tooltip of a cut list."""
    lines = [f"{what} {i + 1}: {'×'.join(str(d) for d in s) or 'scalar'}" for i, s in enumerate(shapes)]
    return "\n".join(lines)


class LayerDetailsWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        #: anchor → the whole shape list, for the shapes shown cut (see `_shapes_html`)
        self.shape_tips: dict[str, str] = {}
        #: what `show_layer` last showed, and the line width it was cut to (re-cut on resize)
        self._shown: tuple[dict[str, Any], str, list[tuple[str, Any]], int] | None = None
        self.text.viewport().installEventFilter(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.text)
        self.layer: str | None = None
        #: the kernel-path record of the variant on screen or asked for (measured_change.kernel_paths_for)
        self.kernel_paths: dict[str, Any] | None = None
        self.kernel_paths_label = ""
        self.show_hint()

    def set_kernel_paths(self, record: dict[str, Any] | None, label: str = "") -> None:
        """The kernel-path record shown for the selected layer (`label`: the variant's)."""
        self.kernel_paths = record
        self.kernel_paths_label = label

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Over a cut shape list, the tooltip is the whole list (QTextBrowser shows no titles)."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            href = self.text.anchorAt(event.pos())
            if href in self.shape_tips:
                QToolTip.showText(event.globalPos(), plain_text.tip(self.shape_tips[href]), self.text)
                return True
        return super().eventFilter(watched, event)

    def _line_px(self) -> int:
        """The width a full-width table line has for text (the pane less margins and padding)."""
        return self.text.viewport().width() - 2 * int(self.text.document().documentMargin()) - 24

    def _shapes_html(self, label: str, shapes: Any, key: str) -> tuple[str, str]:
        """(table row, paragraph) for a shape list, never broken inside a shape: whole in the
        table's value column when it fits there; else a paragraph above the table, the pane's
        whole width, cut to fit (`compact_shapes`), as an anchor (plain-looking) whose tooltip
        has them all. (A paragraph, not a spanning table row: Qt wraps a spanning cell at the
        columns' widths, not the pane's.)"""
        t = current()
        fm, room = self.text.fontMetrics(), self._line_px()
        whole = compact_shapes(shapes, limit=1 << 30)
        if fm.horizontalAdvance(whole) <= room - fm.horizontalAdvance("Output shapes") - 24:
            return f"<tr><td style='color:{t.muted}'>{label}</td><td colspan=2>{whole}</td></tr>", ""
        line = SHAPES_CHARS
        while line > 12 and fm.horizontalAdvance(compact_shapes(shapes, line)) > room:
            line -= 1  # measured, not counted: "×", "…" and digits differ in width
        short = compact_shapes(shapes, limit=line)
        value = html.escape(short)
        if "…" in short:
            href = _SHAPE_LINK + key
            self.shape_tips[href] = full_shapes(shapes, "input" if key == "in" else "output")
            value = f"<a href='{href}' style='color:{t.text};text-decoration:none'>{value}</a>"
            label += f" · {len(shapes)}, hover for all"
        return "", (
            f"<p style='margin:2px 0 0 2px;color:{t.muted}'>{label}</p>"
            f"<p style='margin:0 0 2px 12px;white-space:pre'>{value}</p>"
        )

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        # shapes are cut to the pane's width: a wider or narrower pane shows them again
        if self._shown is not None and self._shown[3] != self._line_px():
            self.show_layer(*self._shown[:3])

    def show_hint(self) -> None:
        self.layer = None
        self.shape_tips = {}
        self._shown = None
        self.text.setHtml(
            f"<p style='color:{current().muted}'>Click a layer (or move to it with the arrow keys) to see its shapes, roofline bound, "
            "arithmetic intensity, uncounted ops and its figures in every variant explored.</p>"
        )

    def show_layer(self, details: dict[str, Any], target: str, history: list[tuple[str, Any]]) -> None:
        """`details` from LayerData.details; `history` = (variant label, LayerRow or None) per variant."""
        row = details["row"]
        proj = details.get("projected")
        lat = details.get("latency_ms")
        t = current()
        self.layer = row.name
        self.shape_tips = {}
        self._shown = (details, target, history, self._line_px())
        e = html.escape
        shapes_in = self._shapes_html("Input shapes", row.input_shapes, "in")
        shapes_out = self._shapes_html("Output shapes", row.output_shapes, "out")
        lines = [
            f"<h3 style='margin:0'>{e(row.name)}</h3><p style='color:{t.muted};margin-top:2px'>{e(row.type)}"
            + (f" · in {e(row.scope)}" if row.scope else "")
            + "</p>",
            shapes_in[1],
            shapes_out[1],
            "<table cellspacing=0 cellpadding=2>",
            shapes_in[0],
            shapes_out[0],
            _tr("Params", fmt_count(row.params), "counted"),
            _tr("MACs", fmt_count(row.macs), "counted" if row.counted else "incomplete"),
            _tr("Weights", fmt_bytes(row.weight_bytes), "counted"),
            _tr("Activations", fmt_bytes(row.activation_bytes), "counted"),
            *_latency_rows(row, lat),
        ]
        if proj is not None:
            intensity = (
                "—"
                if proj.intensity_flops_per_byte is None
                else f"{units.number(proj.intensity_flops_per_byte)} FLOP/byte"
            )
            lines += [
                _tr("Projected", fmt_ms(proj.time_ms), f"on {e(target)}"),
                _tr("Bound", e(proj.bound), "roofline"),
                _tr("Intensity", intensity, "projected"),
            ]
        lines.append("</table>")
        note = details.get("latency_note")
        if note and lat is not None:  # how the rows relate to end to end: the same for every layer
            lines.append(f"<p style='color:{t.muted}'>Per-layer latency: {e(note)}</p>")
        if row.unsupported_ops:
            lines.append(
                f"<p style='color:{t.bad}'>⚠ Ops without a FLOP formula (MACs are a lower bound): "
                f"{e(', '.join(row.unsupported_ops))}</p>"
            )
        lines += _kernel_path_html(self.kernel_paths, row.name, self.kernel_paths_label)
        if history:
            lines.append(
                "<h4 style='margin-bottom:2px'>In each variant explored</h4><table cellspacing=0 cellpadding=2>"
            )
            lines.append(
                f"<tr style='color:{t.muted}'><td>Variant</td><td align=right>Params</td>"
                "<td align=right>MACs</td><td align=right>Latency</td></tr>"
            )
            for label, r in history:
                if r is None:
                    lines.append(f"<tr><td>{e(label)}</td><td colspan=3>not in this variant</td></tr>")
                else:
                    lines.append(
                        f"<tr><td>{e(label)}</td><td align=right>{fmt_count(r.params)}</td>"
                        f"<td align=right>{fmt_count(r.macs)}</td><td align=right>{fmt_ms(r.latency_ms)}</td></tr>"
                    )
            lines.append("</table>")
        self.text.setHtml("".join(lines))


def _kernel_path_html(record: dict[str, Any] | None, name: str, label: str) -> list[str]:
    """The layer's kernel path in the variant: prediction and reason, measured change, flags."""
    entry = next((e for e in (record or {}).get("layers", ()) if e.get("layer") == name), None)
    if entry is None:
        return []
    t = current()
    e = html.escape
    out = [f"<h4 style='margin-bottom:2px'>Kernel path{' · ' + e(label) if label else ''}</h4><p style='margin-top:0'>"]
    for line in layer_kernel_path(entry):
        color = t.warn if line.startswith("⚠") else t.text if line.startswith("Kernel") else t.muted
        out.append(f"<span style='color:{color}'>{e(line)}</span><br>")
    out.append("</p>")
    return out


def _latency_rows(row: Any, lat: float | None) -> list[str]:
    """Latency (reconciled), the profiler's raw figure where it differs, and p10–p90 over the runs."""
    if lat is None:
        return [_tr("Latency", fmt_ms(lat), "not measured")]
    reconciled = row.latency_raw_ms is not None and lat == row.latency_ms
    out = [_tr("Latency", fmt_ms(lat), "measured, reconciled with end to end" if reconciled else "measured")]
    if reconciled:
        out.append(_tr("Raw profiler", fmt_ms(row.latency_raw_ms), "as the per-layer profiler timed it"))
    if row.latency_p10_ms is not None and row.latency_p90_ms is not None and lat == row.latency_ms:
        out.append(
            _tr("p10–p90", f"{fmt_ms(row.latency_p10_ms)} – {fmt_ms(row.latency_p90_ms)}", "over the profiled runs")
        )
    return out


def _tr(label: str, value: str, how: str = "") -> str:
    muted = current().muted
    return (
        f"<tr><td style='color:{muted};padding-right:10px;white-space:nowrap'>{label}</td><td>{value}</td>"
        f"<td style='color:{muted};padding-left:8px'>{how}</td></tr>"
    )
