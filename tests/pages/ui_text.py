"""What a learner reads on a page rendered by AppTest: every label, message, metric, table header and chart text.

Used by the language tests: the French UI must not show English words or raw identifiers, and the reverse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

#: Words that cannot be French (nor part of a technical term the course keeps in English).
ENGLISH_WORDS = frozenset(
    """the and with without failed drag drop choose please must should would could this that these those which
    when where what your you are were been has have from into than then only also each every between above
    below outside allowed missing unknown trained saved loaded found per limit files upload browse select
    selected click enter press number value values error errors rows row seconds week weeks day days share
    rejected approved defaults default step steps reference current yes no true false none not here
    there how why who its it's is of to in at by for be all any some more less most least new old before after
    learner""".split()
)
#: Words that cannot be English.
FRENCH_WORDS = frozenset(
    """le la les des une avec dans sur est sont pas vous votre vos nous notre très être fichier fichiers modèle
    modèles données réussi échec échoué choisir choisissez cliquez glissez déposez valeur valeurs ligne lignes
    semaine semaines jour jours seconde secondes erreur erreurs aucun aucune oui vrai entre ou où mais donc ceci
    cela ça ici toujours moins tous toutes chaque enregistrer enregistré enregistrée taux précision rappel
    référence actuel actuelle""".split()
)
#: Technical terms written the same way in both languages (allowed in either).
TECHNICAL = frozenset(
    """run runs pipeline pipelines api rest f1 roc auc mlflow docker kubernetes pod pods cpu git pytest http https
    json csv yaml url id p50 p95 p99 psi ks csi ci cd ct ab a/b ui ml mlops sklearn scikit learn fastapi uvicorn
    evidently prometheus grafana hadolint wheel sdist venv pip numpy pandas plotly streamlit skops pickle joblib
    onnx gcp gke docker-compose nginx gunicorn jenkins github actions staging production champion challenger
    drift dataset batch endpoint logs log tag tags commit push merge branch main ucb1 thompson epsilon ε request
    requests feature features apply""".split()
)
#: Column names of the course data: shown as they are in both languages (they are the data's own names).
DATA_IDENTIFIERS = frozenset(
    """Loan_ID Gender Married Dependents Education Self_Employed ApplicantIncome CoapplicantIncome LoanAmount
    Loan_Amount_Term Credit_History Property_Area Loan_Status""".split()
)
#: Values of the course data's categorical columns (shown as they are: they are the data).
DATA_VALUES = ("Not Graduate", "Graduate", "Yes", "No", "Male", "Female", "Urban", "Rural", "Semiurban")
IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
#: A version number or a value in code-like context is not a French/English decimal: `Python 3.11`, `HTTP 1.1`.
VERSIONED = re.compile(
    r"(?i)(python|kubernetes|evidently|mlflow|version|streamlit|fastapi|pandas|numpy|http|k8s|"
    r"ubuntu|debian|scikit-learn|babel|plotly|art|skops|pip|hadolint|v)[ :/]*$"
)
WORD = re.compile(r"[A-Za-zÀ-ÿœŒ']+")
ENGLISH_DECIMAL = re.compile(r"(?<![\w.:/-])\d+\.\d+(?![\w.])")


@dataclass(frozen=True)
class Text:
    """One text the learner reads, and where it comes from (for the failure message)."""

    where: str
    text: str
    label: bool = False  # a label, header, legend or axis title: no raw identifier allowed


def _strip_markup(text: str) -> str:
    """Prose only: no code blocks, inline code, LaTeX, URLs, HTML tags, Markdown links' targets, file names,
    quoted titles (« Run the tests »), HTTP reason phrases (404 Not Found), the data's own category values."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"(`+)(?:(?!\1).)+\1", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+|<[^>]+>", " ", text)
    text = re.sub(r"«[^»]*»", " ", text)
    text = re.sub(r"\b\d{3}(?: [A-Z][a-z]+)+", " ", text)
    text = re.sub(r"[\w.-]*\w[./][\w./-]*\w", " ", text)  # file names and paths: MANIFEST.in, src/loan_model
    text = re.sub(r"(?<![\w/])/[\w{}/.-]+", " ", text)  # URL paths: /predict_status
    for value in DATA_VALUES:
        text = re.sub(rf"\b{value}\b", " ", text)
    return text


def _walk(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def _figure_texts(spec: dict, where: str) -> Iterator[Text]:
    layout = spec.get("layout", {})

    def title(value) -> str:
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    yield Text(f"{where} title", title(layout.get("title")), True)
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key) and isinstance(axis, dict):
            yield Text(f"{where} {key} title", title(axis.get("title")), True)
            for tick in axis.get("ticktext") or []:
                yield Text(f"{where} {key} tick", str(tick), True)
    yield Text(f"{where} legend title", title(layout.get("legend", {}).get("title")), True)
    for note in layout.get("annotations", []):
        yield Text(f"{where} annotation", str(note.get("text", "")), True)
    for shape in layout.get("shapes", []):
        yield Text(f"{where} shape label", str((shape.get("label") or {}).get("text", "")), True)
    for trace in spec.get("data", []):
        if trace.get("showlegend", True) is not False:
            yield Text(f"{where} legend", str(trace.get("name") or ""), True)
        template = trace.get("hovertemplate") or ""
        yield Text(f"{where} hover", re.sub(r"%\{[^}]*\}|<extra>.*?</extra>", " ", str(template)), True)
        for axis in ("x", "y"):
            values = trace.get(axis)
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                for value in values:
                    if IDENTIFIER.fullmatch(value):
                        yield Text(f"{where} {axis} category", value, True)
        colorbar = (trace.get("colorbar") or {}).get("title")
        if colorbar:
            yield Text(f"{where} colorbar", title(colorbar), True)


def page_texts(at) -> list[Text]:
    """Every text of the rendered page (main area and sidebar), with where it comes from."""
    texts: list[Text] = []
    for node in _walk(at._tree):
        kind = getattr(node, "type", "")
        where = f"{kind} {getattr(node, 'key', '') or ''}".strip()
        if kind in (
            "markdown",
            "caption",
            "title",
            "header",
            "subheader",
            "error",
            "warning",
            "info",
            "success",
            "exception",
            "toast",
        ):
            texts.append(Text(where, _strip_markup(str(node.value)), kind in ("title", "header", "subheader")))
        elif kind in ("expander", "tab"):
            texts.append(Text(where, _strip_markup(str(node.label)), True))
        elif kind == "metric":
            texts.append(Text(f"{where} label", _strip_markup(node.label), True))
            texts.append(Text(f"{where} value", str(node.value)))
            texts.append(Text(f"{where} delta", str(node.delta or "")))
        elif kind == "dataframe":
            frame = node.value
            config = json.loads(node.proto.columns or "{}")
            hidden = {name for name, c in config.items() if isinstance(c, dict) and c.get("hidden")}
            for column in frame.columns:
                if f"col:{column}" not in hidden and str(column) not in hidden:
                    texts.append(Text(f"{where} column", str(column), True))
            if pd.api.types.is_object_dtype(frame.index) or pd.api.types.is_string_dtype(frame.index):
                texts.extend(Text(f"{where} row label", str(i), True) for i in frame.index)
        elif kind == "progress":
            texts.append(Text(where, str(node.proto.text)))
        elif kind == "plotly_chart":
            texts.extend(_figure_texts(json.loads(node.proto.spec), where))
        elif hasattr(node, "label"):  # widgets
            texts.append(Text(f"{where} label", _strip_markup(str(node.label)), True))
            texts.append(Text(f"{where} help", _strip_markup(str(getattr(node, "help", "") or ""))))
            placeholder = getattr(node.proto, "placeholder", "")
            texts.append(Text(f"{where} placeholder", str(placeholder)))
            for option in getattr(node.proto, "options", []):
                texts.append(Text(f"{where} option", _strip_markup(str(option)), True))
    return [t for t in texts if t.text.strip()]


def _words(text: str) -> set[str]:
    return {w.strip("'").lower() for w in WORD.findall(text)}


def foreign_words(texts: list[Text], lang: str) -> list[str]:
    """Texts showing words of the other language (`where: word in 'text'`)."""
    banned = ENGLISH_WORDS if lang == "fr" else FRENCH_WORDS
    found = []
    for item in texts:
        words = (_words(item.text) & banned) - TECHNICAL
        if words:
            found.append(f"{item.where}: {sorted(words)} in {item.text[:120]!r}")
    return found


def raw_identifiers(texts: list[Text]) -> list[str]:
    """Labels, headers, legends and axis titles that show a code identifier (`p50_ms`) instead of words."""
    found = []
    for item in texts:
        if item.label:
            for name in IDENTIFIER.findall(_strip_markup(item.text)):
                if name not in DATA_IDENTIFIERS:
                    found.append(f"{item.where}: {name!r} in {item.text[:120]!r}")
    return found


def english_numbers(texts: list[Text]) -> list[str]:
    """French texts with a decimal point (`0.85`) where French writes a comma (`0,85`); versions are allowed."""
    return [
        f"{item.where}: {match.group()!r} in {item.text[:120]!r}"
        for item in texts
        for match in ENGLISH_DECIMAL.finditer(_strip_code(item.text))
        if not VERSIONED.search(_strip_code(item.text)[: match.start()])
    ]


def _strip_code(text: str) -> str:
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    return re.sub(r"(`+)(?:(?!\1).)+\1", " ", text, flags=re.S)


def table_cells(at) -> list[Text]:
    """The cells of every table as the learner reads them (a Styler's display values when the app formats them)."""
    import pyarrow as pa

    cells = []
    for node in _walk(at._tree):
        if getattr(node, "type", "") != "dataframe":
            continue
        styler = node.proto.arrow_data.styler
        if styler.display_values:
            frame = pa.ipc.open_stream(styler.display_values).read_pandas()
        else:
            frame = node.value
        for column in frame.columns:
            if pd.api.types.is_float_dtype(frame[column]):  # raw floats: Streamlit writes them with a point
                values = frame[column].dropna()
                cells.extend(Text(f"dataframe {node.key or ''} {column}", repr(v)) for v in values[values % 1 != 0][:3])
            elif frame[column].dtype == object:
                cells.extend(Text(f"dataframe {node.key or ''} {column}", str(v)) for v in frame[column][:20])
    return cells


def missing_placeholders(at) -> list[str]:
    """Multiselects (and selectboxes left empty) without a placeholder: Streamlit then writes "Choose options"."""
    found = []
    for node in _walk(at._tree):
        kind = getattr(node, "type", "")
        if kind == "multiselect" or (kind == "selectbox" and node.value is None):
            if not node.proto.placeholder:
                found.append(f"{kind} {node.key}: no placeholder (Streamlit shows its English default)")
    return found


def decimal_point_sliders(at) -> list[str]:
    """Sliders over floats: Streamlit writes their values with a decimal point (`0.05`) whatever the language."""
    from streamlit.proto.Slider_pb2 import Slider

    return [
        f"slider {node.key}: a float slider shows `0.05`, not `0,05` (use decimal_slider)"
        for node in _walk(at._tree)
        if getattr(node, "type", "") == "slider" and node.proto.data_type == Slider.DataType.FLOAT
    ]
