"""The layer details pane: shapes, counts, bound and arithmetic intensity on the target,
unsupported ops, the layer's kernel path for the knobs (predicted before the variant is timed,
checked against its measured change after), and its figures in every variant explored."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from gui.measured_change import layer_kernel_path
from gui.theme import current, fmt_bytes, fmt_count, fmt_ms
from profiler import units


def _shapes(shapes: Any) -> str:
    return ", ".join("×".join(str(d) for d in s) for s in shapes) or "—"


class LayerDetailsWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
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

    def show_hint(self) -> None:
        self.layer = None
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
        e = html.escape
        lines = [
            f"<h3 style='margin:0'>{e(row.name)}</h3><p style='color:{t.muted};margin-top:2px'>{e(row.type)}"
            + (f" · in {e(row.scope)}" if row.scope else "")
            + "</p>",
            "<table cellspacing=0 cellpadding=2>",
            _tr("Input shapes", _shapes(row.input_shapes)),
            _tr("Output shapes", _shapes(row.output_shapes)),
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
        f"<tr><td style='color:{muted};padding-right:10px'>{label}</td><td>{value}</td>"
        f"<td style='color:{muted};padding-left:8px'>{how}</td></tr>"
    )
