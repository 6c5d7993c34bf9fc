"""PDF papers of a meeting (packs, minutes), each page watermarked with who it was made for."""

from __future__ import annotations

from fpdf import FPDF

# The core PDF fonts cover Windows-1252; anything else is replaced, these by their nearest.
_REPLACEMENTS = {"\N{MINUS SIGN}": "-", "\N{NON-BREAKING HYPHEN}": "-", "\N{NARROW NO-BREAK SPACE}": " "}


def pdf_safe(text: str) -> str:
    for char, replacement in _REPLACEMENTS.items():
        text = text.replace(char, replacement)
    return text.encode("cp1252", errors="replace").decode("cp1252")


class WatermarkedPaper(FPDF):
    """An A4 paper whose every page carries the reader's name and organisation, across the
    page and in the header, so a printed or forwarded copy says whose it was."""

    def __init__(self, title: str, reader: str, marking: str = "OFFICIAL-SENSITIVE") -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.paper_title = pdf_safe(title)
        self.reader = pdf_safe(reader)
        self.marking = marking
        self.set_title(self.paper_title)
        self.set_auto_page_break(auto=True, margin=18)
        self.add_page()

    def header(self) -> None:
        # The diagonal watermark first, so the page's text is printed over it.
        self.set_font("Helvetica", "B", 30)
        self.set_text_color(225, 225, 225)
        x, y = 30.0, 200.0
        with self.rotation(45, x, y):
            self.text(x, y, f"{self.reader}")
        self.set_text_color(90, 90, 90)
        self.set_font("Helvetica", "", 8)
        self.set_xy(self.l_margin, 6)
        self.cell(0, 4, f"{self.marking}  |  Prepared for {self.reader}", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_y(14)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self.paper_title}  |  {self.reader}  |  page {self.page_no()}", align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: int = 14) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, size * 0.5, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(self, text: str, *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 10)
        self.multi_cell(0, 5, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")

    def bytes(self) -> bytes:
        return bytes(self.output())
