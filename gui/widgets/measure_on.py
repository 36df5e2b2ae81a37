"""Run → Measure on…: where sweeps and Optimize… measure — this machine (the default) or a Ray
cluster at an address — and a connection test that says what the cluster has.

A thin binding over plain data: the dialog asks for a test (`test_requested(address)`) and shows
the `tradeoff.cluster/1` document it gets back (`show_cluster`) or the command's one-line error
(`show_error`); gui/window/cluster_runs.py runs the command (the app never imports Ray). Knob
changes always measure on this machine. Everything the cluster sends (host names, versions,
errors) is shown as plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text

NODE_COLUMNS = ("host", "address", "CPUs", "GPUs", "accelerators", "state")
ADDRESS_HINT = "auto, local, ray://HOST:10001 or HOST:6379"
VERSION_KEYS = ("ray", "tradeoff", "python", "torch", "onnxruntime")


def _count(value: Any) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return "?"


def cluster_summary(doc: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(what the cluster has, the versions there and here, warnings) from a tradeoff.cluster/1
    document, as the dialog shows them."""
    nodes = [n for n in doc.get("nodes") or () if isinstance(n, dict)]
    alive = [n for n in nodes if n.get("alive")]
    gpus = doc.get("gpus_by_type") or {}
    gpu_text = ", ".join(f"{_count(c)} × {name}" for name, c in sorted(gpus.items())) if gpus else "no GPUs"
    dead = len(nodes) - len(alive)
    has = (
        f"{len(alive)} node{'' if len(alive) == 1 else 's'} alive"
        + (f" ({dead} dead)" if dead else "")
        + f" · {_count(doc.get('cpus'))} CPUs · GPUs: {gpu_text}"
    )
    there = doc.get("cluster_versions") or {}
    here = doc.get("client_versions") or {}
    versions = (
        f"Ray {there.get('ray') or '?'} on the cluster, {here.get('ray') or '?'} here · "
        f"tradeoff {there.get('tradeoff') or '?'} there, {here.get('tradeoff') or '?'} here"
    )
    warnings = []
    if there.get("error"):
        warnings.append(f"A probe task could not run on the cluster: {there['error']}")
    for key in VERSION_KEYS:
        a, b = there.get(key), here.get(key)
        if a and b and a != b:
            critical = key in ("ray", "tradeoff", "python")
            warnings.append(
                f"Version mismatch: {key} {a} on the cluster, {b} here"
                + (" — rows measured there would fail" if critical else " — measurements there use theirs")
            )
    return has, versions, warnings


def read_only_table(columns: tuple[str, ...] | list[str]) -> QTableWidget:
    """A table people read, not edit or select: one line per row, no row numbers."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    return table


class MeasureOnDialog(QDialog):
    """This machine / a cluster address, Test connection, and what the cluster has."""

    test_requested = Signal(str)  # the address to test

    def __init__(self, use_cluster: bool, address: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Measure on")
        self.resize(720, 460)
        intro = plain_text.label(
            "Where batch sweeps and Optimize… measure. Knob changes always measure on this machine.",
            objectName="Muted",
        )
        intro.setWordWrap(True)
        self.local_radio = QRadioButton("This machine")
        self.cluster_radio = QRadioButton("A Ray cluster at")
        self.address = QLineEdit(address)
        self.address.setPlaceholderText(ADDRESS_HINT)
        self.address.setToolTip(
            "auto: a cluster started on this machine with `ray start`; local: a Ray head started for each run; "
            "ray://HOST:10001: Ray Client; HOST:PORT: the head's GCS address"
        )
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self._on_test_clicked)
        (self.cluster_radio if use_cluster and address else self.local_radio).setChecked(True)
        self.cluster_radio.toggled.connect(self._sync_enabled)
        self.address.textChanged.connect(self._sync_enabled)
        self.address.returnPressed.connect(self._on_test_clicked)
        row = QHBoxLayout()
        row.addWidget(self.cluster_radio)
        row.addWidget(self.address, 1)
        row.addWidget(self.test_button)

        self.state = plain_text.label("", objectName="Muted")
        self.has = plain_text.label("")
        self.has.setWordWrap(True)
        self.versions = plain_text.label("", objectName="Muted")
        self.versions.setWordWrap(True)
        self.warnings = plain_text.label("", objectName="Warning")
        self.warnings.setWordWrap(True)
        self.error = plain_text.label("", objectName="Warning")
        self.error.setWordWrap(True)
        self.nodes = read_only_table(NODE_COLUMNS)
        header = self.nodes.horizontalHeader()
        for col in range(len(NODE_COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.local_radio)
        lay.addLayout(row)
        lay.addWidget(self.state)
        lay.addWidget(self.error)
        lay.addWidget(self.has)
        lay.addWidget(self.versions)
        lay.addWidget(self.warnings)
        lay.addWidget(self.nodes, 1)
        lay.addStretch(1)  # takes the room while there is no table (an error, a test running)
        self._stretch_index = lay.count() - 1
        lay.addWidget(self.buttons)
        self._layout = lay
        self.clear_result()
        self._sync_enabled()

    # --- the choice -------------------------------------------------------------------------------

    def use_cluster(self) -> bool:
        return self.cluster_radio.isChecked() and bool(self.chosen_address())

    def chosen_address(self) -> str:
        return self.address.text().strip()

    def _sync_enabled(self) -> None:
        has_address = bool(self.chosen_address())
        self.test_button.setEnabled(has_address and not self.testing)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.local_radio.isChecked() or has_address)

    # --- the test ---------------------------------------------------------------------------------

    testing = False

    def _on_test_clicked(self) -> None:
        address = self.chosen_address()
        if not address or self.testing:
            return
        self.cluster_radio.setChecked(True)
        self.set_testing(True, address)
        self.test_requested.emit(address)

    def set_testing(self, testing: bool, address: str = "") -> None:
        self.testing = testing
        if testing:
            self.clear_result()
            self.state.setText(f"Connecting to {address}… (a first connection can take a minute)")
        self._sync_enabled()

    def clear_result(self) -> None:
        for label in (self.state, self.has, self.versions, self.warnings, self.error):
            label.setText("")
            label.setVisible(label is self.state)
        self.nodes.setRowCount(0)
        self.nodes.setVisible(False)
        if hasattr(self, "_layout"):
            self._layout.setStretch(self._stretch_index, 1)

    def show_cluster(self, doc: dict[str, Any]) -> None:
        """What the cluster has, from its tradeoff.cluster/1 document."""
        self.set_testing(False)
        has, versions, warnings = cluster_summary(doc)
        self.state.setText(f"Connected to {doc.get('address') or self.chosen_address()}")
        self.has.setText(has)
        self.versions.setText(versions)
        self.warnings.setText("\n".join(warnings))
        for label in (self.has, self.versions):
            label.setVisible(True)
        self.warnings.setVisible(bool(warnings))
        nodes = [n for n in doc.get("nodes") or () if isinstance(n, dict)]
        self.nodes.setRowCount(len(nodes))
        for r, n in enumerate(nodes):
            cells = (
                str(n.get("host") or "?"),
                str(n.get("address") or ""),
                _count(n.get("cpus")),
                _count(n.get("gpus")),
                ", ".join(str(a) for a in n.get("accelerators") or ()) or "—",
                "alive" if n.get("alive") else "dead",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)  # a table item is never rich text
                item.setToolTip(plain_text.tip(text))
                self.nodes.setItem(r, c, item)
        self.nodes.setVisible(True)
        self._layout.setStretch(self._stretch_index, 0)

    def show_error(self, line: str) -> None:
        """The command's one-line error (`error: --cluster: cannot connect to …`)."""
        self.set_testing(False)
        self.clear_result()  # no stale nodes beside an error
        self.state.setText("No connection")
        self.error.setText(line)
        self.error.setVisible(True)

    def result_text(self) -> str:
        """Everything the test shows, as plain text (for tests and the clipboard)."""
        parts = [self.state.text(), self.error.text(), self.has.text(), self.versions.text(), self.warnings.text()]
        for r in range(self.nodes.rowCount()):
            cells = (self.nodes.item(r, c) for c in range(self.nodes.columnCount()))
            parts.append(" ".join(c.text() for c in cells if c is not None))
        return "\n".join(p for p in parts if p)
