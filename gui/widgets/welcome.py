"""The first-start page ("Getting started"): the three steps and how to open a model.

Shown on a fresh user's first start (no recent file, no autosave) beside the trained demo the app
opens then, and from Help → Getting started at any time. It is a non-modal dialog: the window
behind it keeps measuring, and the page only asks for things through its signals (the window's
menus connect them), so it never opens files itself.

Every string here is the app's own; nothing from a model is shown, and the labels are plain text
all the same (gui/plain_text.py).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text

TRAINED_DEMO = "demo:digits-cnn"

#: (step, what to do, the button that takes you there, the tab it shows)
STEPS = (
    (
        "1  Inspect",
        "The heatmap lists every layer with its parameters, MACs, activation memory and latency "
        "measured on this machine; the darker the cell, the larger its share of the model. Hover a "
        "cell to see how the number was obtained (counted, measured or projected); click a layer "
        "for its shapes and roofline bound. Graph and Operators show the same rows as a graph and "
        "by op type.",
        "Show the heatmap",
        0,
    ),
    (
        "2  Try the knobs",
        "On the left: pruning, precision, batch, sequence length or image size, device and runtime. "
        "Each change really transforms the model and re-measures it; the strip above the views "
        "gives the change in latency, size, accuracy (fidelity) and $ per million inferences. "
        "Every variant you try is a point on the Variants tab; click one to go back to it.",
        "Show the variants",
        4,
    ),
    (
        "3  Plan and export",
        "The Planner tab projects what training and serving would cost on cloud hardware "
        "(sourced spec and price tables; projected, not measured). Run → Optimize… searches for "
        "the cheapest variant that keeps a quality floor. File → Export report writes a PDF that "
        "reads as a decision.",
        "Show the planner",
        5,
    ),
)

#: (form, example, what to know) — README "What you can open"
MODEL_FORMS = (
    ("ONNX", "model.onnx", "Shapes come from the file; a dynamic dimension asks for its size."),
    ("torch.export", "model.pt2", "Loading an archive can run code: the app asks you first."),
    ("TorchScript", "model.ts, model.pt", "Compiled code: asks you first, and for the input shape."),
    ("Python factory", "net.py  or  net.py:build", "Runs the file's build function (default build_model)."),
    (
        "Hugging Face config",
        "config.json  or its folder",
        "Random weights; a folder with its own code asks you first.",
    ),
    ("Built-in demo", "demo:NAME", "digits-cnn (trained), resnet18, gpt-small …; no download."),
)


def _wrapped(text: str, object_name: str = "") -> QLabel:
    lab = plain_text.label(text)
    lab.setWordWrap(True)
    if object_name:
        lab.setObjectName(object_name)
    return lab


class WelcomePage(QDialog):
    """See the module docstring. Signals say what the user asked for:
    `open_file_requested()`, `open_folder_requested()`, `open_demo_requested(source)`,
    `show_tab_requested(index)`."""

    open_file_requested = Signal()
    open_folder_requested = Signal()
    open_demo_requested = Signal(str)
    show_tab_requested = Signal(int)

    def __init__(self, demos: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        """`demos`: (source, description) of each built-in demo, for the demo picker."""
        super().__init__(parent)
        self.setObjectName("WelcomePage")
        self.setWindowTitle("Getting started — Tradeoff Studio")
        self.setModal(False)

        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setContentsMargins(14, 12, 14, 12)
        lay.setSpacing(10)
        title = plain_text.label("Welcome to Tradeoff Studio")
        title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        lay.addWidget(title)
        lay.addWidget(
            _wrapped(
                "Cut cost or keep quality? Open a model, see what each layer costs, change it and see "
                "what you gain and lose — measured, not guessed. The trained demo (demo:digits-cnn, a "
                "small CNN for 8×8 handwritten digits with labelled held-out samples, so accuracy "
                'drops are real) opens in the window behind this page on a first start; "Open the trained '
                'demo" below brings it back.'
            )
        )

        steps = QGroupBox("Three steps")
        grid = QGridLayout(steps)
        grid.setColumnStretch(1, 1)
        self.step_buttons: list[QPushButton] = []
        for row, (name, text, button_text, tab) in enumerate(STEPS):
            head = plain_text.label(name)
            head.setStyleSheet("font-weight: 600;")
            grid.addWidget(head, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(_wrapped(text), row, 1)
            button = QPushButton(button_text)
            button.clicked.connect(lambda _=False, t=tab: self.show_tab_requested.emit(t))
            grid.addWidget(button, row, 2, Qt.AlignmentFlag.AlignTop)
            self.step_buttons.append(button)
        lay.addWidget(steps)

        opening = QGroupBox("Open a model")
        ol = QVBoxLayout(opening)
        buttons = QHBoxLayout()
        self.open_file_button = QPushButton("Open a model file…")
        self.open_file_button.setToolTip("File → Open (Ctrl+O); you can also drop a file on the window")
        self.open_file_button.clicked.connect(self.open_file_requested)
        self.open_folder_button = QPushButton("Open a Hugging Face folder…")
        self.open_folder_button.setToolTip("A folder holding a Hugging Face config.json")
        self.open_folder_button.clicked.connect(self.open_folder_requested)
        self.trained_demo_button = QPushButton("Open the trained demo")
        self.trained_demo_button.setToolTip(TRAINED_DEMO)
        self.trained_demo_button.clicked.connect(lambda: self.open_demo_requested.emit(TRAINED_DEMO))
        for b in (self.open_file_button, self.open_folder_button, self.trained_demo_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        ol.addLayout(buttons)
        demo_row = QHBoxLayout()
        demo_row.addWidget(plain_text.label("Or a built-in demo:"))
        self.demo_combo = QComboBox()
        for source, description in demos:
            self.demo_combo.addItem(f"{source} — {description}", source)
        self.demo_combo.setMinimumContentsLength(30)
        self.demo_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        demo_row.addWidget(self.demo_combo, 1)
        self.open_demo_button = QPushButton("Open demo")
        self.open_demo_button.clicked.connect(self._on_open_demo_clicked)
        demo_row.addWidget(self.open_demo_button)
        ol.addLayout(demo_row)
        ol.addWidget(_wrapped("What you can open (each form, an example, and what to know):", "Muted"))
        self.forms = QTableWidget(len(MODEL_FORMS), 3)
        self.forms.setHorizontalHeaderLabels(["Form", "Example", "What to know"])
        for r, cells in enumerate(MODEL_FORMS):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setToolTip(plain_text.tip(text))
                self.forms.setItem(r, c, item)
        self.forms.verticalHeader().hide()
        self.forms.setWordWrap(False)
        self.forms.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.forms.setFrameShape(QFrame.Shape.NoFrame)
        header = self.forms.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.forms.verticalHeader().setDefaultSectionSize(24)
        self.forms.setFixedHeight(24 * len(MODEL_FORMS) + header.sizeHint().height() + 4)
        self.forms.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        ol.addWidget(self.forms)
        ol.addWidget(
            _wrapped(
                "On the command line the same forms work: tradeoff gui net.py:build, "
                "tradeoff profile model.onnx --batch 8. A file that can run code opens only after you "
                "confirm, every time.",
                "Muted",
            )
        )
        lay.addWidget(opening)
        lay.addWidget(_wrapped("Reopen this page any time from Help → Getting started.", "Muted"))
        lay.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.close)
        self.close_button = close.button(QDialogButtonBox.StandardButton.Close)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 8)
        outer.addWidget(scroll, 1)
        footer = QHBoxLayout()
        footer.setContentsMargins(14, 0, 14, 0)
        footer.addWidget(close)
        outer.addLayout(footer)
        self.resize(860, 640)

    def fit_to(self, parent: QWidget) -> None:
        """At most the parent's size less a margin, centred on it (a 1280×720 screen fits it)."""
        geo = parent.frameGeometry()
        width = min(860, max(480, geo.width() - 80))
        height = min(700, max(360, geo.height() - 80))
        self.resize(width, height)
        self.move(geo.center().x() - width // 2, geo.center().y() - height // 2)

    def _on_open_demo_clicked(self) -> None:
        source = self.demo_combo.currentData()
        if source:
            self.open_demo_requested.emit(str(source))
