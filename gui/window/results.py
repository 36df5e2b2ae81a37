"""Showing results: the run events from the controller, the layer views, the deltas strip, the
charts, the layer details, and the knobs that ask for a new variant."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from gui import measured_change, plain_text
from gui.calibration_hook import record_profile
from gui.state.layer_data import COL_LAT, COL_PARAMS, COL_PROJ, COL_SHARE
from gui.widgets.knobs import applicability, built_on_meta
from profiler.events import Failed, FailureKind
from profiler.result import LayerRow, Profile
from profiler.variant import Variant
from profiler.whatif import VariantResult

if TYPE_CHECKING:
    from gui.window.main_window import MainWindow

LAYER_FLUSH_MS = 100  # per-layer latency bursts repaint at most 10 times a second


class ResultsView:
    """Puts the workspace's current result on screen, and asks for the variant the knobs show."""

    def __init__(self, w: MainWindow) -> None:
        self._w = w
        self.restoring = False  # knob changes made by the window itself (opening a project) ask for nothing
        self._pending_show: VariantResult | None = None
        self.layer_flush = QTimer(w, singleShot=True, interval=LAYER_FLUSH_MS)
        self.layer_flush.timeout.connect(self.flush_layers)

    def connect(self) -> None:
        w = self._w
        c = w.controller
        c.run_started.connect(self.on_run_started)
        c.progress_changed.connect(self.on_run_progress)
        c.static_ready.connect(self.on_static_ready)
        c.layer_measured.connect(self.on_layer_measured)
        c.run_finished.connect(self.on_run_finished)
        c.run_failed.connect(self.on_run_failed)
        c.run_cancelled.connect(self.on_run_cancelled)
        c.busy_changed.connect(self.on_busy_changed)
        w.cancel_button.clicked.connect(c.cancel)
        w.knobs.variant_changed.connect(self.on_knobs_changed)
        for view in (w.heatmap, w.table):
            view.layer_selected.connect(self.on_layer_selected)
            view.prune_override_requested.connect(self.on_prune_override)
        w.pareto_chart.variant_clicked.connect(self.restore_variant)
        w.planner.plan_changed.connect(self.on_plan_changed)
        w.planner.target_changed.connect(self.on_target_changed)

    # == run events ================================================================================

    def on_run_started(self, _run_id: int, variant: Variant) -> None:
        self._w.statusBar().showMessage(f"Measuring {variant.label()}…")

    def on_busy_changed(self, busy: bool) -> None:
        w = self._w
        w.progress.setVisible(busy)
        w.cancel_button.setVisible(busy)
        w.menus.cancel_action.setEnabled(busy)
        if busy:
            w.progress.setValue(0)
            w.progress.setFormat("%p%")  # the last run's stage text goes

    def on_run_progress(self, fraction: float, message: str) -> None:
        w = self._w
        bar, status = progress_texts(fraction, message)
        w.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        w.progress.setFormat(bar)
        if message:
            w.progress.setToolTip(plain_text.tip(message))
        w.statusBar().showMessage(status)

    def on_static_ready(self, profile: Profile) -> None:
        w = self._w
        opening = w.opening
        # every profile that arrives re-evaluates what depends on the model (the knobs' rules, the
        # header): the model's own baseline once there is one, else this first counted profile
        self.apply_model_profile(w.workspace.reference or profile)
        if not opening.has_static:
            opening.has_static = True
            opening.remember(profile.model.source)
            w.statusBar().showMessage(
                f"Counted {len(profile.layers)} layers in {time.perf_counter() - opening.opened_at:.1f} s; measuring…"
            )
        self.show_profile_rows(profile)
        w.static_shown.emit(profile)

    def apply_model_profile(self, profile: Profile | None) -> None:
        """What depends on the model, not the variant: the knobs that apply, the header. Called
        whenever a profile arrives (counted, finished, served from the cache, restored), with the
        model's baseline where there is one, so nothing of the previous model's stays."""
        if profile is None:
            return
        w = self._w
        w.knobs.set_model(profile, cuda=w.telemetry.has_gpu)
        why = applicability(profile, w.telemetry.has_gpu)
        for view in (w.heatmap, w.table):
            view.override_reason = why.get("layer_prune")
        w.model_label.setText(f"{profile.model.name}")
        ins = ", ".join(f"{i.name} {'×'.join(map(str, i.shape))} {i.dtype}" for i in profile.inputs)
        w.env_label.setText(f"{profile.model.source} · {profile.model.format} · inputs {ins}")
        w.env_label.setToolTip(plain_text.tip(w.env_label.text()))

    def show_profile_rows(self, profile: Profile) -> None:
        """Put `profile`'s rows in both layer views: a reset only when the layers differ."""
        w = self._w
        same = w.layer_data.set_profile(profile)
        self.update_projection(profile, refresh=False)
        if same:
            w.heatmap.model.refresh_columns(COL_PARAMS, COL_SHARE)
            w.table.model.refresh_columns(COL_PARAMS, COL_SHARE)
        else:
            w.heatmap.reset()
            w.table.reset()

    def on_layer_measured(self, name: str, latency_ms: float) -> None:
        if self._w.layer_data.set_latency(name, latency_ms) is not None and not self.layer_flush.isActive():
            self.layer_flush.start()

    def flush_layers(self) -> None:
        """Repaint the latency and share columns once for a burst of layer events."""
        w = self._w
        w.layer_data.recompute()
        w.heatmap.model.refresh_columns(COL_LAT, COL_SHARE)
        w.table.model.refresh_columns(COL_LAT, COL_SHARE)

    def on_run_finished(self, result: VariantResult) -> None:
        w = self._w
        w.opening.previous_open = None  # the new model opened: nothing to go back to
        first = not w.workspace.results
        w.workspace.add(result)
        if first and result.profile is not None:
            w.opening.remember(result.profile.model.source)  # also when served from the cache
        w.workspace.knobs = w.knobs.variant
        # the model's rules and header from its baseline: a result served from the runner's cache
        # comes without a counted profile first
        self.apply_model_profile(w.workspace.reference or result.profile)
        self.show_result(result)
        message = self.finished_message(result, w.workspace.reference)
        # every fresh measurement calibrates the projection for the device it ran on
        calibrated = record_profile(result.profile, catalog=w.planner.catalog)
        if calibrated:
            message += f" · {calibrated}"
            w.planner.replan()
        w.statusBar().showMessage(message, 12000)
        w.opening.schedule_autosave()

    @staticmethod
    def finished_message(result: VariantResult, reference: Profile | None, verb: str = "Measured") -> str:
        """'Measured int8 against the baseline: 1.8× faster (1.6–2.0×)', plus any busy warning."""
        if built_on_meta(result.profile):  # nothing ran: counted only, latency projected
            verb = "Counted" if verb == "Measured" else verb
            return (
                f"{verb} {result.variant.label()} — built on the meta device (too large to run here): "
                "latency is projected, not measured"
            )
        text = f"{verb} {result.variant.label()}"
        timed = result.profile is not None and result.profile.totals.latency_ms is not None
        # the baseline itself, or nothing timed in one run with it: no change to state
        if timed and result.latency_ratio is not None and not measured_change.is_baseline(result):
            text += f" against the baseline: {measured_change.latency_change(result)}"
        warning = measured_change.noise_warning(result, reference)
        return text + (f" — ⚠ {warning}" if warning else "")

    def show_result(self, result: VariantResult) -> None:
        profile = result.profile
        if profile is None:
            return
        self.layer_flush.stop()
        self.show_profile_rows(profile)
        # The rest on the next turn of the event loop: the rows repaint in between, so no
        # single turn holds the loop for the whole update (the heartbeat benchmark's stalls).
        self._pending_show = result
        QTimer.singleShot(0, lambda: self._finish_show(result))

    def _finish_show(self, result: VariantResult) -> None:
        if self._pending_show is not result or result.profile is None:
            return  # a newer result is on its way
        w = self._w
        self._pending_show = None
        w.planner.set_profile(result.profile)  # emits plan_changed → deltas
        self.update_deltas()
        self.update_charts()
        self.show_kernel_paths(result.variant, result)  # the prediction checked against the measurement
        if w.details.layer:
            self.on_layer_selected(w.details.layer)
        w.result_shown.emit(result)

    def on_run_failed(self, failure: Failed) -> None:
        w = self._w
        ws = w.workspace
        message = failure.message
        if failure.failure is FailureKind.NEEDS_TRUST and not ws.trust:
            w.opening.on_needs_trust(ws.source or "", message)
            return
        if not ws.results:  # the model itself did not open
            w.opening.model_failed_to_open(failure)
            return
        what = "The measurement process crashed" if failure.worker_died else "This variant could not be measured"
        w.statusBar().showMessage(f"{what}: {message} — the previous results are kept", 15000)
        self.restore_current_rows()
        if failure.worker_died or failure.failure in (FailureKind.OUT_OF_MEMORY, FailureKind.TIMED_OUT):
            w.prompts.error(what, f"{message}\n\nThe previous results are kept; the next change starts a fresh worker.")

    def on_run_cancelled(self) -> None:
        w = self._w
        if not w.workspace.results:  # the model was still opening: back to the one before, if any
            w.opening.abandon_open("Opening cancelled")
            return
        w.statusBar().showMessage("Measurement cancelled — showing the last measured variant", 5000)
        self.restore_current_rows()

    def restore_current_rows(self) -> None:
        """Back to the result on screen: its rows, and the knobs showing its variant (not the one
        that was cancelled or failed)."""
        w = self._w
        current = w.workspace.current
        if current is not None and current.profile is not None:
            w.knobs.set_variant(current.variant)
            w.workspace.knobs = current.variant
            for view in (w.heatmap, w.table):
                view.overrides = dict(current.variant.layer_prune)
            self.show_profile_rows(current.profile)
            self.show_kernel_paths(current.variant, current)

    # == knobs =====================================================================================

    def on_knobs_changed(self, variant: Variant) -> None:
        w = self._w
        if self.restoring or w.workspace.source is None:
            return
        w.workspace.knobs = variant
        self.show_kernel_paths(variant)  # the prediction, before the variant is measured
        w.opening.request(variant)
        w.opening.schedule_autosave()

    def restore_variant(self, variant: Variant) -> None:
        """Show an explored variant again (from the Pareto chart): instant, from its stored result."""
        w = self._w
        result = w.workspace.results.get(variant.key())
        if result is not None:
            w.controller.cancel()  # first: a cancel puts the knobs back on the result on screen
        w.knobs.set_variant(variant)
        w.workspace.knobs = variant
        if result is not None:
            w.workspace.current_key = variant.key()
            self.show_result(result)
            w.statusBar().showMessage(self.finished_message(result, w.workspace.reference, "Restored"), 8000)
        else:
            w.opening.request(variant, immediate=True)

    def on_prune_override(self, name: str, ratio: float) -> None:
        w = self._w
        w.knobs.set_layer_override(name, ratio if ratio > 0 else None)
        for view in (w.heatmap, w.table):
            view.overrides = dict(w.knobs.variant.layer_prune)

    def remeasure(self) -> None:
        w = self._w
        if w.workspace.source:
            if w.opening.declined is w.workspace:  # an explicit re-measure asks again
                w.opening.declined = None
            w.opening.request(w.knobs.variant, immediate=True)

    # == derived views =============================================================================

    def update_projection(self, profile: Profile | None, refresh: bool = True) -> None:
        w = self._w
        projection = w.planner.projection(profile)
        w.layer_data.set_projection(
            w.planner.projection_label if projection else "", w.planner.projected_layers(projection)
        )
        if projection is not None:
            peak, bw = w.planner.roof(projection)
            w.roofline_chart.set_projection(
                f"{projection.accelerator} ({projection.precision}, batch {projection.batch})",
                peak,
                bw,
                list(projection.layers),
            )
        else:
            w.roofline_chart.set_projection("", None, None, [])
        if refresh:
            w.heatmap.model.refresh_columns(COL_PROJ, COL_SHARE)
            w.table.model.refresh_columns(COL_PROJ, COL_SHARE)

    def on_target_changed(self, _name: str) -> None:
        w = self._w
        self.update_projection(w.layer_data.profile)
        if w.details.layer:
            self.on_layer_selected(w.details.layer)
        w.opening.schedule_autosave()

    def on_plan_changed(self, _plan: object) -> None:
        self.update_deltas()
        self._w.opening.schedule_autosave()

    def update_deltas(self) -> None:
        w = self._w
        current = w.workspace.current
        if current is None or current.profile is None:
            return
        ratios = w.workspace.deltas_of(current)
        # the planner's answer for this variant: $ / month at the load, else $ / M inferences
        usd = w.planner.serving_cost(current.profile)
        ref = w.workspace.reference
        ref_usd = usd if ref is None or ref is current.profile else w.planner.serving_cost(ref)
        usd_ratio = usd / ref_usd if usd is not None and ref_usd else None
        # which share of MACs the projection runs in int8 (only the layers the variant quantized)
        usd_share = w.planner.precision_share_caption(current.profile)
        w.deltas.show_result(current.profile, ratios, usd, usd_ratio, usd_share, w.planner.serving_cost_title)
        # the recommendation says what this variant saves against the baseline
        is_baseline = ref is None or ref is current.profile
        w.planner.set_reference(None if is_baseline else ref, None if is_baseline else current.variant.label())
        w.deltas.show_latency(current, ref)  # the measured change, with its interval and any busy warning
        w.deltas.show_recover(current.recover)  # recovered by distillation: held-out quality before → after

    def update_charts(self) -> None:
        w = self._w
        ws = w.workspace
        current = ws.current
        if current is not None:
            points = [
                (r.profile.config.batch, r.profile.totals.latency_ms.median)
                for r in ws.same_except_batch(current.variant)
                if r.profile is not None and r.profile.totals.latency_ms is not None
            ]
            w.batch_chart.set_points(points)
        w.pareto_chart.show_results(ws.results, ws.current_key)  # the core's Pareto flags, as the PDF stars them

    def on_layer_selected(self, name: str) -> None:
        w = self._w
        details = w.layer_data.details(name)
        if details is None:
            w.details.show_hint()
            return
        history: list[tuple[str, LayerRow | None]] = []
        for r in w.workspace.results.values():
            if r.profile is None:
                continue
            row = next((x for x in r.profile.layers if x.name == name), None)
            history.append((r.variant.label(), row))
        w.details.show_layer(details, w.planner.projection_short_label, history)

    def show_kernel_paths(self, variant: Variant, result: VariantResult | None = None) -> None:
        """The kernel-path prediction for `variant` as soon as the knobs ask for it (from the
        baseline's rows and the knobs), or its check against `result` once measured: the deltas
        strip's line, the layer views' marks and tooltips, the details pane."""
        w = self._w
        record = measured_change.kernel_paths_for(w.workspace.reference, variant, result)
        w.deltas.show_kernel_paths(record, measured=result is not None)
        for view in (w.heatmap, w.table):
            view.set_kernel_paths(record)
        w.details.set_kernel_paths(record, variant.label())
        if w.details.layer and result is None:
            self.on_layer_selected(w.details.layer)


def progress_texts(fraction: float, message: str) -> tuple[str, str]:
    """The progress bar's text ("47.3% · pruning: building the depend…") and the status bar's
    ("pruning: building the dependency graph (12 s) — 47.3%"). One decimal: the heartbeat of a
    long stage moves by tenths of a percent, and the user should see it move."""
    pct = f"{100 * max(0.0, min(1.0, fraction)):.1f}%"
    # QProgressBar's format replaces %p, %v and %m (and has no escape): the stage's own % goes wide
    stage = message.split(" (", 1)[0].strip().replace("%", "\uff05")
    if len(stage) > 28:
        stage = stage[:27] + "…"
    bar = f"{pct} · {stage}" if stage else pct
    status = f"{message} — {pct}" if message else pct
    return bar, status
