"""A one-page summary of a chapter (objectives, key terms, points to remember), as HTML or PDF to print.

The HTML is self-contained (inline CSS, no font, script or image fetched from anywhere) and has print CSS for
one A4 page; the PDF is drawn with fpdf2 (pure Python), shrinking the text until it fits on one page. Both are
built from the lesson files, so a teacher's edit shows in the next download. Nothing here imports streamlit.
"""

from __future__ import annotations

import html
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.chapters import get_chapter
from workbench.core.lessons import TAKEAWAYS_TITLES, Lesson

#: LaTeX the lessons use in their takeaways, written as plain Unicode for a page without a math renderer.
LATEX = {
    r"\hat{Y}": "Ŷ",
    r"\mid": "|",
    r"\neq": "≠",
    r"\leq": "≤",
    r"\geq": "≥",
    r"\times": "×",
    r"\alpha": "α",
    r"\beta": "β",
    r"\mu": "μ",
    r"\varepsilon": "ε",
    r"\epsilon": "ε",
    r"\sum": "Σ",
    r"\ln": "ln",
    r"\approx": "≈",
    r"\infty": "∞",
    r"\,": " ",
    r"\|": "‖",
    r"\to": "→",
}
_MATH = re.compile(r"\$([^$\n]+)\$")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+|\\[,|]")

LABELS = {
    "fr": {
        "chapter": "Chapitre",
        "objectives": "Objectifs",
        "terms": "Termes clés",
        "takeaways": "À retenir",
        "footer": "Atelier MLOps — fiche résumé",
    },
    "en": {
        "chapter": "Chapter",
        "objectives": "Objectives",
        "terms": "Key terms",
        "takeaways": "Key takeaways",
        "footer": "MLOps Workbench — one-page summary",
    },
}


@dataclass(frozen=True)
class ChapterSummary:
    """What a learner keeps of a chapter: its objectives, key terms and points to remember."""

    chapter_key: str
    lang: str
    heading: str  # "Chapitre V — Gérer le cycle de vie du ML avec MLflow"
    objectives: tuple[str, ...]
    key_terms: tuple[tuple[str, str], ...]
    takeaways: tuple[str, ...]
    currency: str  # the "up to date as of … — versions tested" line

    @property
    def filename(self) -> str:
        """`05_mlflow-resume-fr` / `05_mlflow-summary-en` (without extension)."""
        return f"{self.chapter_key}-{'resume' if self.lang == 'fr' else 'summary'}-{self.lang}"


def list_items(markdown: str) -> list[str]:
    """The top-level `- ` items of a Markdown list, continuation lines joined."""
    items: list[str] = []
    for line in markdown.splitlines():
        if line.startswith(("- ", "* ")):
            items.append(line[2:].strip())
        elif items and line.strip():
            items[-1] += " " + line.strip()
    return items


def build_summary(lesson: Lesson, currency: str = "") -> ChapterSummary:
    """The summary of a parsed lesson (its `À retenir` / `Key takeaways` section gives the points to remember)."""
    chapter = get_chapter(lesson.chapter_key)
    takeaways = next(
        (list_items(s.body) for s in lesson.sections if s.title.startswith(TAKEAWAYS_TITLES[lesson.lang])), []
    )
    return ChapterSummary(
        chapter_key=lesson.chapter_key,
        lang=lesson.lang,
        heading=f"{LABELS[lesson.lang]['chapter']} {chapter.roman} — {lesson.title}",
        objectives=lesson.objectives,
        key_terms=tuple((t.term, t.definition) for t in lesson.key_terms),
        takeaways=tuple(takeaways),
        currency=currency,
    )


def plain_math(text: str) -> str:
    """`$P(\\hat{Y})$` → `P(Ŷ)`: inline math as Unicode, for a page that loads no math renderer."""

    def convert(match: re.Match[str]) -> str:
        formula = match.group(1)
        for command, symbol in sorted(LATEX.items(), key=lambda kv: -len(kv[0])):
            formula = formula.replace(command, symbol)
        formula = _LATEX_COMMAND.sub("", formula).replace("{", "").replace("}", "")
        return re.sub(r"\s+", " ", formula).strip()

    return _MATH.sub(convert, text)


def inline_html(markdown: str) -> str:
    """One line of Markdown (bold, italics, code) as HTML, its math as Unicode; raw HTML is escaped."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).renderInline(plain_math(markdown))


CSS = """
@page { size: A4; margin: 10mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; font-size: 9.5pt; line-height: 1.35;
       color: #1b1b1b; margin: 0 auto; max-width: 190mm; padding: 8mm 0; }
h1 { font-size: 15pt; margin: 0 0 2mm; color: #0b3d91; }
h2 { font-size: 10.5pt; margin: 4mm 0 1.5mm; color: #0b3d91; border-bottom: 0.4pt solid #9db3d9;
     padding-bottom: 0.8mm; text-transform: uppercase; letter-spacing: 0.03em; }
p.currency { font-size: 8pt; color: #555; margin: 0 0 2mm; }
ul { margin: 0; padding-left: 5mm; }
li { margin: 0 0 0.8mm; }
dl { margin: 0; columns: 2; column-gap: 7mm; }
dt { font-weight: bold; break-after: avoid; }
dd { margin: 0 0 1.4mm 0; break-before: avoid; break-inside: avoid; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.92em; background: #eef2f8;
       padding: 0 0.6mm; border-radius: 1mm; }
footer { margin-top: 4mm; font-size: 7.5pt; color: #777; border-top: 0.4pt solid #ccc; padding-top: 1mm; }
@media print { body { padding: 0; max-width: none; font-size: 8.4pt; line-height: 1.28; } h1 { font-size: 13pt; }
                h2 { break-after: avoid; margin-top: 3mm; } dd { margin-bottom: 1mm; } li { margin-bottom: 0.4mm; } }
"""


def summary_html(summary: ChapterSummary) -> str:
    """The summary as one self-contained HTML page (inline CSS, nothing loaded from elsewhere), ready to print."""
    labels = LABELS[summary.lang]
    esc = html.escape
    objectives = "".join(f"<li>{inline_html(o)}</li>" for o in summary.objectives)
    terms = "".join(f"<dt>{esc(term)}</dt><dd>{inline_html(definition)}</dd>" for term, definition in summary.key_terms)
    takeaways = "".join(f"<li>{inline_html(point)}</li>" for point in summary.takeaways)
    currency = f'<p class="currency">{esc(summary.currency)}</p>' if summary.currency else ""
    return f"""<!DOCTYPE html>
<html lang="{summary.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(summary.heading)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>{esc(summary.heading)}</h1>
{currency}
<h2>{labels["objectives"]}</h2>
<ul>{objectives}</ul>
<h2>{labels["takeaways"]}</h2>
<ul>{takeaways}</ul>
<h2>{labels["terms"]}</h2>
<dl>{terms}</dl>
<footer>{labels["footer"]}</footer>
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# PDF (fpdf2)
# --------------------------------------------------------------------------------------------


def unicode_font() -> Path | None:
    """A TrueType font with the accents and symbols of the lessons (DejaVu Sans, shipped with matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        font = Path(folder) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if font.is_file():
            return font
    return None


def _pdf_markup(markdown: str) -> str:
    """Markdown of one line as the HTML subset fpdf2 draws (bold, italics; code as bold-free monospace text)."""
    text = inline_html(markdown)
    return re.sub(r"</?code>", "", text)


def _render_pdf(summary: ChapterSummary, size: float, font: Path | None):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(summary.heading)
    pdf.set_creator("MLOps Workbench")
    if font is not None:
        family = "DejaVu"
        pdf.add_font(family, "", str(font))
        bold = font.with_name("DejaVuSans-Bold.ttf")
        pdf.add_font(family, "B", str(bold if bold.is_file() else font))
        italic = font.with_name("DejaVuSans-Oblique.ttf")
        pdf.add_font(family, "I", str(italic if italic.is_file() else font))
        bold_italic = font.with_name("DejaVuSans-BoldOblique.ttf")
        pdf.add_font(family, "BI", str(bold_italic if bold_italic.is_file() else font))
    else:
        family = "Helvetica"
    pdf.add_page()
    labels = LABELS[summary.lang]
    esc = html.escape

    def section(title: str) -> None:
        pdf.ln(size * 0.25)
        pdf.set_font(family, "B", size + 1.5)
        pdf.set_text_color(11, 61, 145)
        pdf.cell(0, size * 0.55, title.upper(), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(157, 179, 217)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
        pdf.ln(size * 0.12)
        pdf.set_text_color(27, 27, 27)
        pdf.set_font(family, "", size)

    pdf.set_font(family, "B", size + 5)
    pdf.set_text_color(11, 61, 145)
    pdf.multi_cell(0, (size + 5) * 0.45, summary.heading, new_x="LMARGIN", new_y="NEXT")
    if summary.currency:
        pdf.set_font(family, "", size - 1.5)
        pdf.set_text_color(85, 85, 85)
        pdf.multi_cell(0, size * 0.42, summary.currency, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", size)
    line = size * 0.42
    section(labels["objectives"])
    pdf.write_html(
        "<ul>" + "".join(f"<li>{_pdf_markup(o)}</li>" for o in summary.objectives) + "</ul>",
        li_prefix_color=(11, 61, 145),
    )
    section(labels["takeaways"])
    pdf.write_html(
        "<ul>" + "".join(f"<li>{_pdf_markup(p)}</li>" for p in summary.takeaways) + "</ul>",
        li_prefix_color=(11, 61, 145),
    )
    section(labels["terms"])
    for term, definition in summary.key_terms:
        pdf.write_html(f"<p><b>{esc(term)}</b> — {_pdf_markup(definition)}</p>")
    pdf.ln(line * 0.5)
    pdf.set_font(family, "", size - 2)
    pdf.set_text_color(120, 120, 120)
    pdf.cell(0, line, labels["footer"])
    return pdf


def summary_pdf(summary: ChapterSummary) -> bytes:
    """The summary as a one-page A4 PDF (the text shrinks, down to 6.5 pt, until it fits on one page)."""
    font = unicode_font()
    if font is None:  # the core fonts only know Latin-1: keep what they can draw
        summary = _latin1(summary)
    size = 9.5
    pdf = _render_pdf(summary, size, font)
    while pdf.pages_count > 1 and size > 6.5:
        size -= 0.5
        pdf = _render_pdf(summary, size, font)
    return bytes(pdf.output())


def _latin1(summary: ChapterSummary) -> ChapterSummary:
    """The summary with the characters Latin-1 lacks replaced (— → -, ≈ → ~, …)."""
    table = str.maketrans(
        {
            "—": "-",
            "–": "-",
            "’": "'",
            "…": "...",
            "≈": "~",
            "→": "->",
            "≠": "!=",
            "≤": "<=",
            "≥": ">=",
            "×": "x",
            "⌈": "",
            "⌉": "",
            "ε": "e",
            "Ŷ": "Y^",
            "‖": "||",
            "€": "EUR",
        }
    )

    def clean(text: str) -> str:
        return text.translate(table).encode("latin-1", "replace").decode("latin-1")

    return ChapterSummary(
        summary.chapter_key,
        summary.lang,
        clean(summary.heading),
        tuple(map(clean, summary.objectives)),
        tuple((clean(t), clean(d)) for t, d in summary.key_terms),
        tuple(map(clean, summary.takeaways)),
        clean(summary.currency),
    )
