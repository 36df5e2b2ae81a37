"""A small flow layout over QPdfWriter: headings, paragraphs, tables and figures placed top to
bottom with page breaks, then painted with page numbers once the page count is known.

Layout measures with the writer's own font metrics and records each page as a list of paint
operations (closures over a QPainter); `paint()` replays them, so "page N of M" is exact. Text
is drawn with QPainter.drawText (real, searchable text in the PDF); figures paint vector
primitives straight into the PDF (no images), so they stay sharp at any zoom.

Coordinates are the writer's device units (RESOLUTION dpi); `Doc.pt(x)` converts points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

#: device resolution of the PDF: fine enough that font metrics are not rounded visibly.
RESOLUTION = 1200
MARGIN_MM = 16.0
PAGE_SIZES = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
FONT_FAMILIES = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans"]

INK = QColor("#1a202c")
MUTED = QColor("#5a6474")
RULE = QColor("#c8ced8")
HEAD = QColor("#1f3b5a")
ZEBRA = QColor("#f3f5f9")
ACCENT = QColor("#2b6cb0")  # baseline
ACCENT2 = QColor("#d4661d")  # chosen variant
GOOD = QColor("#2f855a")
PANEL = QColor("#eef3f9")

Op = Callable[[QPainter], None]


_FONTS: dict[tuple[float, bool, bool, bool], QFont] = {}


def font(size_pt: float, *, bold: bool = False, italic: bool = False, mono: bool = False) -> QFont:
    """The report's font at `size_pt` points (cached: one QFont per style). Ligatures are off so
    the PDF's text copies and searches as typed ("fi", not the single glyph "ﬁ")."""
    key = (round(size_pt, 2), bold, italic, mono)
    cached = _FONTS.get(key)
    if cached is not None:
        return cached
    f = QFont()
    f.setFamilies(["DejaVu Sans Mono", "Liberation Mono", "Courier New"] if mono else FONT_FAMILIES)
    f.setPointSizeF(size_pt)
    f.setBold(bold)
    f.setItalic(italic)
    f.setKerning(True)
    for tag in ("liga", "clig", "dlig"):
        f.setFeature(QFont.Tag(tag), 0)
    _FONTS[key] = f
    return f


@dataclass(frozen=True)
class Column:
    """A table column: title, relative width, alignment ('l', 'r', 'c')."""

    title: str
    width: float
    align: str = "l"
    wrap: bool = False


def _flags(align: str) -> Qt.AlignmentFlag:
    h = {"l": Qt.AlignmentFlag.AlignLeft, "r": Qt.AlignmentFlag.AlignRight, "c": Qt.AlignmentFlag.AlignHCenter}[align]
    return h | Qt.AlignmentFlag.AlignVCenter


class Doc:
    """Pages of paint operations, laid out in flow order."""

    def __init__(self, writer: QPdfWriter, *, header: str, footer_left: str) -> None:
        self.writer = writer
        self.header = header
        self.footer_left = footer_left
        self.res = writer.resolution()
        self.scale = self.res / 72.0
        margin = self.mm(MARGIN_MM)
        self.page_w = float(writer.width())
        self.page_h = float(writer.height())
        self.left = margin
        self.right = self.page_w - margin
        self.top = margin + self.pt(14)  # room for the running header
        self.bottom = self.page_h - margin - self.pt(12)  # room for the footer
        self.width = self.right - self.left
        self.pages: list[list[Op]] = []
        self.y = 0.0
        #: the contents: (level, title, page index) of every heading laid out with `toc=True`
        self.toc: list[tuple[int, str, int]] = []
        #: how many contents lines `contents()` reserves room for (gui.report.pdf lays the report
        #: out once to count them, then again with the count, so the page numbers are exact)
        self.toc_lines = 0
        #: headings laid out last on this page with nothing after them yet: (op index, toc length,
        #: arguments); a page break before their first block takes them along (no orphan heading)
        self._pending: list[tuple[int, int, tuple[str, int, bool | None]]] = []
        #: device units the flexible figures (`figure(min_height_pt=…)`) laid out next may give up
        #: (set by `keep_together` to make a group fit), and what those laid out so far could give
        self._squeeze = 0.0
        self._flex = 0.0
        #: where the text ended on each page before the last (device units): how full it is
        self.page_ends: list[float] = []
        self.new_page()

    # --- units and metrics -----------------------------------------------------------------

    def pt(self, points: float) -> float:
        return points * self.scale

    def mm(self, millimetres: float) -> float:
        return millimetres / 25.4 * self.res

    def metrics(self, f: QFont) -> QFontMetricsF:
        return QFontMetricsF(f, self.writer)

    def text_height(self, text: str, f: QFont, width: float) -> float:
        fm = self.metrics(f)
        r = fm.boundingRect(QRectF(0, 0, width, 1e9), int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft), text)
        return max(r.height(), fm.height())

    def elide(self, text: str, f: QFont, width: float) -> str:
        return self.metrics(f).elidedText(text, Qt.TextElideMode.ElideMiddle, width)

    # --- pages -----------------------------------------------------------------------------

    def new_page(self) -> None:
        if self.pages:
            self.page_ends[len(self.pages) - 1 :] = [self.y]
        self.pages.append([])
        self.y = self.top
        self._pending = []

    def add(self, op: Op) -> None:
        self.pages[-1].append(op)
        self._pending = []  # something follows the headings now

    def room(self) -> float:
        return self.bottom - self.y

    def ensure(self, height: float) -> None:
        """Break the page unless `height` fits below the cursor (a fresh page always takes it).
        Headings with nothing after them yet move to the new page with the block."""
        if self.y + height > self.bottom and self.y > self.top + 1:
            pending, self._pending = self._pending, []
            if pending and pending[0][0] > 0:
                del self.pages[-1][pending[0][0] :]
                del self.toc[pending[0][1] :]
            else:
                pending = []
            self.new_page()
            for _, _, (text, level, toc) in pending:
                self.heading(text, level, toc=toc)

    def space(self, points: float) -> None:
        self.y += self.pt(points)

    def page_index(self) -> int:
        return len(self.pages) - 1

    def snapshot(self) -> tuple[list[list[Op]], float, list[tuple[int, str, int]], list[Any]]:
        """The layout so far, to come back to (`restore`): a group laid out two ways."""
        return [list(p) for p in self.pages], self.y, list(self.toc), list(self._pending)

    def restore(self, state: tuple[list[list[Op]], float, list[tuple[int, str, int]], list[Any]]) -> None:
        pages, y, toc, pending = state
        # in place: the contents block reads `self.toc` by reference when it is painted
        self.pages[:] = [list(p) for p in pages]
        self.toc[:] = toc
        self.y = y
        self._pending = list(pending)
        del self.page_ends[len(self.pages) - 1 :]

    def page_fill(self) -> list[float]:
        """How full each page is (0–1 of the text area), the last one included."""
        ends = [*self.page_ends[: len(self.pages) - 1], self.y]
        return [max(0.0, min(1.0, (end - self.top) / (self.bottom - self.top))) for end in ends]

    def best_of(self, *layouts: Callable[[], None]) -> None:
        """Lay out each alternative from the same point and keep the one that ends earliest:
        fewest pages, then highest on its last page (a tie keeps the earlier alternative)."""
        start = self.snapshot()
        best: tuple[tuple[int, float], Any] | None = None
        for lay_out in layouts:
            self.restore(start)
            lay_out()
            end = (len(self.pages), round(self.y, 3))
            if best is None or end < best[0]:
                best = (end, self.snapshot())
        assert best is not None
        self.restore(best[1])

    def keep_together(self, lay_out: Callable[[], None]) -> None:
        """Lay out `lay_out()` (headings, tables, figures…) so that it starts on the page where it
        ends: when it would cross a page break and does not already start at the top of a page,
        it is laid out again with its flexible figures smaller (`figure(min_height_pt=…)`: no
        smaller than that) when that makes it fit, else taken back and laid out again from the
        top of the next page. A group taller than a page flows as it is (tables repeat their
        header)."""
        at_top = self.y <= self.top + 1
        start = self.snapshot()
        pending = list(self._pending)
        outer_flex, self._flex = self._flex, 0.0
        try:
            lay_out()
            if at_top or len(self.pages) == len(start[0]):
                return
            if self._flex > 0 and self._squeezed_fits(lay_out, start, self._flex):
                return
        finally:
            self._flex += outer_flex
        self.restore(start)
        if pending and pending[0][0] > 0:  # headings just before the group go with it
            del self.pages[-1][pending[0][0] :]
            del self.toc[pending[0][1] :]
        else:
            pending = []
        self._pending = []
        self.new_page()
        for _, _, (text, level, toc) in pending:
            self.heading(text, level, toc=toc)
        lay_out()

    def _squeezed_fits(self, lay_out: Callable[[], None], start: Any, capacity: float) -> bool:
        """Lay the group out again from `start` with its figures giving up as little of
        `capacity` as makes it end on this page; False (laid out as it was) when even all of it
        is not enough."""
        pages = len(start[0])

        def attempt(squeeze: float) -> bool:
            self.restore(start)
            self._squeeze, self._flex = squeeze, 0.0
            try:
                lay_out()
            finally:
                self._squeeze = 0.0
            return len(self.pages) == pages

        if not attempt(capacity):
            return False
        # only as much as needed: what was left over at the bottom is given back (+1 pt for rounding)
        needed = min(capacity, max(0.0, capacity - (self.bottom - self.y)) + self.pt(1))
        return attempt(needed) or attempt(capacity)

    def contents(self, *, title: str = "Contents", size: float = 8.5, columns: int = 2) -> None:
        """The contents list: every `toc` heading with its page number, dotted leaders, painted
        once the layout is done (room for `toc_lines` entries is reserved here)."""
        f = font(size)
        fh = font(size, bold=True)
        line_h = self.metrics(f).height() * 1.25
        n = max(1, self.toc_lines)
        per_column = (n + columns - 1) // columns
        gap = self.pt(18)
        col_w = (self.width - gap * (columns - 1)) / columns
        title_h = self.metrics(font(11, bold=True)).height() + self.pt(4)
        self.ensure(title_h + per_column * line_h + self.pt(4))
        y0 = self.y
        toc = self.toc  # read at paint time: filled by the headings laid out after this block

        def op(p: QPainter) -> None:
            p.setFont(font(11, bold=True))
            p.setPen(HEAD)
            p.drawText(QRectF(self.left, y0, self.width, title_h), int(_flags("l")), title)
            fm = self.metrics(f)
            for k, (level, text, page) in enumerate(toc[:n]):
                column, row = divmod(k, per_column)
                x0 = self.left + column * (col_w + gap)
                x1 = x0 + col_w
                y = y0 + title_h + row * line_h
                ff = fh if level <= 1 else f
                indent = 0.0 if level <= 1 else self.pt(12)
                number = str(page + 1)
                p.setFont(ff)
                p.setPen(INK)
                w_num = fm.horizontalAdvance(number)
                label = self.elide(text, ff, x1 - x0 - indent - w_num - self.pt(30))
                w_label = self.metrics(ff).horizontalAdvance(label)
                p.drawText(QRectF(x0 + indent, y, x1 - x0 - indent, line_h), int(_flags("l")), label)
                p.drawText(QRectF(x0, y, x1 - x0, line_h), int(_flags("r")), number)
                p.setPen(QPen(RULE, self.pt(0.6), Qt.PenStyle.DotLine))
                base = y + line_h * 0.7
                p.drawLine(QPointF(x0 + indent + w_label + self.pt(4), base), QPointF(x1 - w_num - self.pt(4), base))

        self.add(op)
        self.y += title_h + per_column * line_h + self.pt(6)

    # --- blocks ----------------------------------------------------------------------------

    def heading(self, text: str, level: int = 1, *, page_break: bool = False, toc: bool | None = None) -> None:
        """A heading kept with what follows it; level 1 headings go into the contents unless
        `toc=False` (level 2 ones only with `toc=True`)."""
        size = {0: 20.0, 1: 14.0, 2: 11.0}[level]
        f = font(size, bold=True)
        h = self.text_height(text, f, self.width)  # a long heading wraps, never clips
        if page_break:
            if self.y > self.top + 1:
                self._pending = []
                self.new_page()
        else:
            self.ensure(h + self.pt(60))  # keep a heading with what follows it
        if self.y > self.top + 1:
            self.space(10 if level <= 1 else 6)
        y = self.y
        rule = level == 1
        x0, x1 = self.left, self.right
        registered = toc if toc is not None else level <= 1
        if registered:
            self.toc.append((level, text, self.page_index()))

        def op(p: QPainter) -> None:
            p.setFont(f)
            p.setPen(HEAD)
            p.drawText(
                QRectF(x0, y, x1 - x0, h + self.pt(1)), int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft), text
            )
            if rule:
                p.setPen(QPen(HEAD, self.pt(0.8)))
                p.drawLine(QPointF(x0, y + h + self.pt(2)), QPointF(x1, y + h + self.pt(2)))

        pending = self._pending
        op_index, toc_len = len(self.pages[-1]), len(self.toc) - (1 if registered else 0)
        self.add(op)
        self._pending = [*pending, (op_index, toc_len, (text, level, toc))]
        self.y += h + (self.pt(6) if rule else self.pt(3))

    def paragraph(
        self,
        text: str,
        *,
        size: float = 9.0,
        color: QColor = INK,
        bold: bool = False,
        italic: bool = False,
        indent: float = 0.0,
        after: float = 4.0,
    ) -> None:
        f = font(size, bold=bold, italic=italic)
        x = self.left + self.pt(indent)
        w = self.right - x
        h = self.text_height(text, f, w)
        self.ensure(h)
        y = self.y

        def op(p: QPainter) -> None:
            p.setFont(f)
            p.setPen(color)
            p.drawText(
                QRectF(x, y, w, h + self.pt(2)), int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft), text
            )

        self.add(op)
        self.y += h + self.pt(after)

    def bullets(self, items: Sequence[str], *, size: float = 9.0, color: QColor = INK) -> None:
        for item in items:
            f = font(size)
            x = self.left + self.pt(12)
            w = self.right - x
            h = self.text_height(item, f, w)
            self.ensure(h)
            y = self.y

            def op(
                p: QPainter, y: float = y, h: float = h, item: str = item, f: QFont = f, x: float = x, w: float = w
            ) -> None:
                p.setFont(f)
                p.setPen(color)
                p.drawText(QRectF(x - self.pt(9), y, self.pt(8), self.metrics(f).height()), int(_flags("l")), "•")
                p.drawText(
                    QRectF(x, y, w, h + self.pt(2)), int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft), item
                )

            self.add(op)
            self.y += h + self.pt(2.5)
        self.space(2)

    def _fits(
        self, columns: Sequence[Column], rows: Sequence[Sequence[str]], f: QFont, fb: QFont, total_w: float, pad: float
    ) -> bool:
        fm, fmb = self.metrics(f), self.metrics(fb)
        need = 0.0
        for i, c in enumerate(columns):
            head = max((fmb.horizontalAdvance(w) for w in c.title.split()), default=0.0)
            words = (w for r in rows for w in str(r[i]).split()) if c.wrap else (str(r[i]) for r in rows)
            need += max(head, max((fm.horizontalAdvance(w) for w in words), default=0.0)) + 2 * pad + 1
        return need <= total_w

    def _column_widths(
        self, columns: Sequence[Column], rows: Sequence[Sequence[str]], f: QFont, fb: QFont, total_w: float, pad: float
    ) -> list[float]:
        """Widths that keep numbers whole: numeric columns get what their longest cell and their
        header's longest word need; text columns share the rest by their relative widths."""
        fm, fmb = self.metrics(f), self.metrics(fb)
        need = []
        for i, c in enumerate(columns):
            head = max((fmb.horizontalAdvance(w) for w in c.title.split()), default=0.0)
            if c.wrap:  # a wrapped column needs its longest word, and would like a fair share
                cells = max((fm.horizontalAdvance(w) for r in rows for w in str(r[i]).split()), default=0.0)
            else:
                cells = max((fm.horizontalAdvance(str(r[i])) for r in rows), default=0.0)
            need.append(max(head, cells) + 2 * pad + 1 + (self.pt(4) if c.align != "l" else 0.0))
        unit = total_w / sum(c.width for c in columns)
        if sum(need) <= total_w:
            # the slack goes to the text columns (numbers are already whole), by relative width
            extra = total_w - sum(need)
            takers = [i for i, c in enumerate(columns) if c.align == "l" or c.wrap] or list(range(len(columns)))
            weight = sum(columns[i].width for i in takers)
            return [n + (extra * columns[i].width / weight if i in takers else 0.0) for i, n in enumerate(need)]
        fixed = [i for i, c in enumerate(columns) if c.align != "l" and not c.wrap]
        flex = [i for i in range(len(columns)) if i not in fixed]
        left = total_w - sum(need[i] for i in fixed)
        flex_weight = sum(columns[i].width for i in flex) or 1.0
        widths = [0.0] * len(columns)
        for i in fixed:
            widths[i] = need[i]
        for i in flex:
            head = max((fmb.horizontalAdvance(w) for w in columns[i].title.split()), default=0.0) + 2 * pad + 1
            widths[i] = max(head, left * columns[i].width / flex_weight)
        scale = total_w / sum(widths)
        if scale < 1:  # still too wide: shrink everything alike (cells elide)
            widths = [w * scale for w in widths]
        _ = (fm, unit)
        return widths

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Sequence[str]],
        *,
        size: float = 8.0,
        highlight: Sequence[int] = (),
        bold_rows: Sequence[int] = (),
        colors: dict[int, QColor] | None = None,
        max_width: float | None = None,
        after: float = 6.0,
        header: bool = True,
    ) -> None:
        """Rows of text cells; numbers right-aligned by their column, never cut (the columns are
        fitted to them); text columns elide, or wrap when `Column.wrap`. The header repeats
        after a page break. `highlight` rows get a tinted background, `colors` a text colour."""
        total_w = max_width or self.width
        pad = self.pt(3)
        while True:  # a table too wide for the page is set smaller (down to 5.6 pt) before anything is cut
            f = font(size)
            fb = font(size, bold=True)
            if size <= 5.6 or self._fits(columns, rows, f, fb, total_w, pad):
                break
            size -= 0.3
        fm = self.metrics(f)
        line_h = fm.height()
        widths = self._column_widths(columns, rows, f, fb, total_w, pad)
        xs = [self.left]
        for w in widths[:-1]:
            xs.append(xs[-1] + w)
        h_align = {
            "l": Qt.AlignmentFlag.AlignLeft,
            "r": Qt.AlignmentFlag.AlignRight,
            "c": Qt.AlignmentFlag.AlignHCenter,
        }
        head_h = (
            (max(self.text_height(c.title, fb, w - 2 * pad) for c, w in zip(columns, widths, strict=True)) + self.pt(4))
            if header
            else 0.0
        )

        def header_op(y: float) -> Op:
            def op(p: QPainter) -> None:
                p.fillRect(QRectF(self.left, y, total_w, head_h), PANEL)
                p.setFont(fb)
                p.setPen(HEAD)
                for c, x, w in zip(columns, xs, widths, strict=True):
                    flags = Qt.TextFlag.TextWordWrap | _flags(c.align)
                    p.drawText(QRectF(x + pad, y, w - 2 * pad, head_h), int(flags), c.title)
                p.setPen(QPen(HEAD, self.pt(0.6)))
                p.drawLine(QPointF(self.left, y + head_h), QPointF(self.left + total_w, y + head_h))

            return op

        def row_height(cells: Sequence[str], rf: QFont) -> float:
            h = line_h
            for c, w, text in zip(columns, widths, cells, strict=True):
                if c.wrap and text:
                    h = max(h, self.text_height(str(text), rf, w - 2 * pad))
            return h + self.pt(3.2)

        heights = [row_height(cells, fb if i in bold_rows else f) for i, cells in enumerate(rows)]
        whole = head_h + sum(heights)
        page = self.bottom - self.top
        if self.y + whole > self.bottom and whole <= page and (len(rows) <= 8 or whole <= page / 3):
            self.ensure(whole)  # a short table is never split: it moves to the next page whole
        else:
            self.ensure(head_h + sum(heights[:3]) if heights else line_h)
        if header:
            self.add(header_op(self.y))
            self.y += head_h
        else:
            top = self.y
            left, pen_w = self.left, self.pt(0.6)

            def rule(p: QPainter) -> None:
                p.setPen(QPen(RULE, pen_w))
                p.drawLine(QPointF(left, top), QPointF(left + total_w, top))

            self.add(rule)
        on_page = 0  # rows on the current page so far
        for i, cells in enumerate(rows):
            rf = fb if i in bold_rows else f
            row_h = heights[i]
            # no row left alone: when only the last row would spill over, the last two move together
            last_alone = i == len(rows) - 2 and on_page >= 3 and self.y + row_h + heights[i + 1] > self.bottom
            if self.y + row_h > self.bottom or last_alone:
                on_page = 0
                self.new_page()
                if header:
                    self.add(header_op(self.y))
                    self.y += head_h
            y = self.y
            shade = QColor("#fdf0e6") if i in highlight else (ZEBRA if i % 2 else None)
            color = (colors or {}).get(i, INK)

            def op(
                p: QPainter,
                y: float = y,
                cells: Sequence[str] = cells,
                shade: QColor | None = shade,
                color: QColor = color,
                rf: QFont = rf,
                row_h: float = row_h,
            ) -> None:
                if shade is not None:
                    p.fillRect(QRectF(self.left, y, total_w, row_h), shade)
                p.setFont(rf)
                p.setPen(color)
                for c, x, w, text in zip(columns, xs, widths, cells, strict=True):
                    if c.wrap:
                        p.drawText(
                            QRectF(x + pad, y + self.pt(1.6), w - 2 * pad, row_h),
                            int(Qt.TextFlag.TextWordWrap | h_align[c.align] | Qt.AlignmentFlag.AlignTop),
                            str(text),
                        )
                        continue
                    shown = self.elide(str(text), rf, w - 2 * pad)
                    p.drawText(QRectF(x + pad, y, w - 2 * pad, line_h + self.pt(3.2)), int(_flags(c.align)), shown)

            self.add(op)
            self.y += row_h
            on_page += 1
        y_end = self.y

        def end_op(p: QPainter) -> None:
            p.setPen(QPen(RULE, self.pt(0.6)))
            p.drawLine(QPointF(self.left, y_end), QPointF(self.left + total_w, y_end))

        self.add(end_op)
        self.y += self.pt(after)

    def figure(
        self,
        height_pt: float,
        draw: Callable[[QPainter, QRectF], None],
        *,
        caption: str = "",
        width: float | None = None,
        after: float = 6.0,
        min_height_pt: float | None = None,
    ) -> None:
        """A vector figure `height_pt` tall across the text width; `draw(painter, rect)`. With
        `min_height_pt` it may be drawn smaller, down to that, to keep its group on one page
        (`keep_together`)."""
        h = self.pt(height_pt)
        if min_height_pt is not None:
            give = max(0.0, h - self.pt(min_height_pt))
            self._flex += give
            take = min(give, self._squeeze)
            h -= take
            self._squeeze -= take
        cap_f = font(8, italic=True)
        cap_h = self.text_height(caption, cap_f, self.width) if caption else 0.0
        self.ensure(h + cap_h + self.pt(4))
        rect = QRectF(self.left, self.y, width or self.width, h)

        def op(p: QPainter) -> None:
            p.save()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            draw(p, rect)
            p.restore()

        self.add(op)
        self.y += h + self.pt(3)
        if caption:
            self.paragraph(caption, size=8, color=MUTED, italic=True, after=after)
        else:
            self.space(after)

    def block(self, height: float, draw: Callable[[QPainter, QRectF], None]) -> None:
        """A fixed-height block (device units) drawn by `draw(painter, rect)`."""
        self.ensure(height)
        rect = QRectF(self.left, self.y, self.width, height)
        self.add(lambda p: draw(p, rect))
        self.y += height

    # --- output ----------------------------------------------------------------------------

    def paint(self) -> int:
        """Replay every page onto the writer, with the running header and `page N of M`."""
        painter = QPainter()
        if not painter.begin(self.writer):
            raise OSError("cannot open the PDF for writing")
        try:
            n = len(self.pages)
            hf = font(7.5)
            for i, ops in enumerate(self.pages):
                if i:
                    self.writer.newPage()
                for op in ops:
                    painter.save()
                    op(painter)
                    painter.restore()
                painter.setFont(hf)
                painter.setPen(MUTED)
                fh = self.metrics(hf).height()
                hy = self.top - self.pt(14)
                if i:
                    painter.drawText(QRectF(self.left, hy, self.width, fh), int(_flags("l")), self.header)
                    painter.setPen(QPen(RULE, self.pt(0.5)))
                    painter.drawLine(
                        QPointF(self.left, hy + fh + self.pt(2)), QPointF(self.right, hy + fh + self.pt(2))
                    )
                painter.setPen(MUTED)
                fy = self.bottom + self.pt(4)
                painter.drawText(QRectF(self.left, fy, self.width, fh), int(_flags("l")), self.footer_left)
                painter.drawText(QRectF(self.left, fy, self.width, fh), int(_flags("r")), f"Page {i + 1} of {n}")
        finally:
            painter.end()
        return len(self.pages)


def make_writer(path: str, page_size: str, *, title: str, creator: str) -> QPdfWriter:
    key = page_size.lower()
    if key not in PAGE_SIZES:
        raise ValueError(f"page size {page_size!r} is not one of {', '.join(PAGE_SIZES)}")
    writer = QPdfWriter(path)
    writer.setResolution(RESOLUTION)
    writer.setPageLayout(
        QPageLayout(QPageSize(PAGE_SIZES[key]), QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    )
    writer.setTitle(title)
    writer.setCreator(creator)
    return writer
