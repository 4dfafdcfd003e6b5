"""The certificate: only when every chapter is done and understood; escaped and self-contained."""

from __future__ import annotations

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.certificate import build_certificate, certificate_html
from workbench.core.exercises import CAPSTONE_KEY, CHECKPOINT_ID, load_exercises
from workbench.core.progress import ProgressStore

NAME = "<script>alert('x')</script> Zoé"


def _finish(store: ProgressStore, learner: str, skip: str | None = None) -> None:
    for key in [*(c.key for c in CHAPTERS), CAPSTONE_KEY]:
        for item in load_exercises(key).item_ids:
            if item != skip:
                store.record_attempt(learner, key, item, "hands_on", True, score=0.9)


def _items(store: ProgressStore, learner: str) -> dict:
    return {key: store.chapter_items(learner, key) for key in [*(c.key for c in CHAPTERS), CAPSTONE_KEY]}


def test_no_certificate_without_the_capstone(tmp_path) -> None:
    store = ProgressStore(tmp_path / "p.db")
    _finish(store, NAME, skip="capstone-api-batch")
    certificate = build_certificate(NAME, _items(store, NAME), "en")
    assert all(c.done for c in certificate.chapters) and not certificate.complete
    assert (certificate.capstone_done, certificate.capstone_total) == (5, 6)


def test_no_certificate_while_one_checkpoint_is_missing(tmp_path) -> None:
    store = ProgressStore(tmp_path / "p.db")
    _finish(store, NAME, skip=CHECKPOINT_ID)
    for chapter in CHAPTERS:  # every practice question right does not replace a checkpoint
        for question in load_exercises(chapter.key).quiz:
            store.record_attempt(NAME, chapter.key, question.id, "quiz", True)
    certificate = build_certificate(NAME, _items(store, NAME), "fr")
    assert not certificate.complete and not any(c.done for c in certificate.chapters)
    with pytest.raises(ValueError, match="not complete"):
        certificate_html(certificate, "fr")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_complete_course_gives_an_escaped_self_contained_certificate(tmp_path, lang) -> None:
    store = ProgressStore(tmp_path / "p.db")
    _finish(store, NAME)
    certificate = build_certificate(NAME, _items(store, NAME), lang)
    assert certificate.complete
    page = certificate_html(certificate, lang)
    assert "<script>" not in page and "&lt;script&gt;" in page and "Zoé" in page
    assert "http" not in page and "<link" not in page  # nothing fetched from anywhere
    assert page.count("<tr><td>") == len(CHAPTERS)
    assert ("90 %" if lang == "fr" else "90%") in page.replace("\u202f", " ").replace("\xa0", " ")
    assert ("Certificat de réussite" if lang == "fr" else "Certificate of completion") in page
