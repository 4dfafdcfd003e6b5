"""A model card (Mitchell et al., 2019) for the reviewed model, in Markdown, from what the registry and the
review know: name, version, aliases, run parameters and metrics, data fingerprint, fairness figures,
permutation importance, intended use and limits. Fixed texts come from the strings (FR/EN)."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from workbench.chapters.ch11_post_production.responsible.fairness import MISSING, FairnessReport
from workbench.chapters.ch11_post_production.responsible.subject import Subject
from workbench.core import formatting as fmt
from workbench.core.i18n import translate


def _md(value: object) -> str:
    """A value safe inside a Markdown table cell (pipes and newlines escaped)."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _num(value: float, lang: str, digits: int = 3) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.number(value, lang, digits)


def _pct(value: float, lang: str) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else fmt.percent(value, lang)


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
        *("| " + " | ".join(_md(c) for c in row) + " |" for row in rows),
    ]


def model_card(
    subject: Subject,
    lang: str,
    fairness: list[FairnessReport] | None = None,
    importance: pd.DataFrame | None = None,
    today: dt.date | None = None,
) -> str:
    """The model card as Markdown in `lang` (`fr` or `en`)."""

    def t(key: str, **values: object) -> str:
        return translate(f"responsible.card_{key}", lang, **values)

    today = today or dt.date.today()
    lines = [f"# {t('title', model=subject.label)}", "", t("generated", date=fmt.date(today, lang)), ""]
    lines += [f"## {t('details')}", ""]
    details = [
        [t("name"), subject.label],
        [t("source"), t("source_" + subject.source)],
        [t("version"), "—" if subject.version is None else str(subject.version)],
        [t("aliases"), ", ".join(f"@{a}" for a in subject.aliases) or "—"],
        [t("run"), subject.run_id or "—"],
        [t("family"), type(getattr(subject.model, "steps", [[None, subject.model]])[-1][1]).__name__],
    ]
    lines += _table([t("field"), t("value")], details) + [""]
    lines += [
        f"## {t('intended')}",
        "",
        t("intended_text"),
        "",
        f"## {t('out_of_scope')}",
        "",
        t("out_of_scope_text"),
        "",
    ]
    lines += [f"## {t('data')}", ""]
    logged_hash = subject.tags.get("dataset_hash", "")
    data_rows = [
        [t("fingerprint"), subject.data_hash],
        [t("logged_fingerprint"), logged_hash or "—"],
        [t("rows"), f"{len(subject.X_train)} / {len(subject.X_test)}"],
    ]
    lines += _table([t("field"), t("value")], data_rows) + [""]
    if subject.source == "registry" and not {"seed", "test_size"} <= set(subject.params):
        lines += [f"> {t('heldout_unknown')}", ""]
    if logged_hash and logged_hash != subject.data_hash:
        lines += [f"> {t('data_differs')}", ""]
    if subject.params:
        lines += [f"## {t('params')}", ""]
        lines += _table([t("param"), t("value")], [[k, v] for k, v in sorted(subject.params.items())]) + [""]
    if subject.metrics:
        lines += [f"## {t('metrics')}", ""]
        lines += _table([t("metric"), t("value")], [[k, _num(v, lang)] for k, v in sorted(subject.metrics.items())])
        lines += [""]
    for report in fairness or []:
        lines += [f"## {t('fairness', attribute=report.attribute)}", ""]
        rows = [
            [
                t("missing_group") if row.group == MISSING else row.group,
                str(row.count),
                _pct(row.selection_rate, lang),
                _pct(row.tpr, lang),
                _pct(row.fpr, lang),
                t("yes") if row.compared else t("no"),
            ]
            for row in report.by_group.itertuples()
        ]
        headers = [t("group"), t("count"), t("approval"), t("tpr"), t("fpr"), t("compared")]
        lines += _table(headers, rows) + [""]
        lines += [
            "- "
            + t(
                "dp_line",
                value=fmt.points(report.dp_difference, lang, sign=False),
                low=_pts(report.dp_interval[0], lang),
                high=_pts(report.dp_interval[1], lang),
            ),
            "- " + t("eo_line", value=_eo(report, lang)),
        ]
        if report.left_out:
            lines.append(f"- {t('left_out', groups=', '.join(report.left_out))}")
        lines.append("")
    if importance is not None and not importance.empty:
        lines += [f"## {t('importance')}", ""]
        rows = [[r.feature, _num(r.importance, lang), _num(r.std, lang)] for r in importance.itertuples()]
        lines += _table([t("feature"), t("auc_drop"), t("spread")], rows) + [""]
    lines += [f"## {t('limits')}", "", t("limits_text"), "", f"## {t('oversight')}", "", t("oversight_text"), ""]
    return "\n".join(lines)


def _pts(value: float, lang: str) -> str:
    return "—" if math.isnan(value) else fmt.points(value, lang, sign=False)


def _eo(report: FairnessReport, lang: str) -> str:
    return "—" if math.isnan(report.eo_difference) else fmt.points(report.eo_difference, lang, sign=False)
