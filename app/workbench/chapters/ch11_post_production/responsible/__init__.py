"""Chapter XI: responsible AI on the loan model — fairness by Gender and Married (fairlearn) with one
mitigation and its cost, permutation importance and a per-decision explanation, a model card from the
registry, and signing the exported model (OpenSSF model-signing, local key, offline).

The model under review is the learner's registered model when there is one (loaded with the safe loader,
never unpickled), else the course pipeline. Split by concern: subject, fairness, explain, card, signing, checks.
"""

from workbench.chapters.ch11_post_production.responsible.card import model_card
from workbench.chapters.ch11_post_production.responsible.checks import (
    check_fairness_mitigation,
    check_signed_model,
    save_choice,
)
from workbench.chapters.ch11_post_production.responsible.explain import (
    DecisionExplanation,
    explain_decision,
    permutation_importances,
    reasons,
    reference_values,
    refused_applicants,
)
from workbench.chapters.ch11_post_production.responsible.fairness import (
    ATTRIBUTES,
    CONSTRAINTS,
    MIN_GROUP,
    MISSING,
    FairnessReport,
    Mitigation,
    compute_fairness,
    decisions,
    group_labels,
    mitigate,
    review_fairness,
)
from workbench.chapters.ch11_post_production.responsible.signing import (
    SigningResult,
    Verification,
    sign_model,
    signing_paths,
    verify_folder,
)
from workbench.chapters.ch11_post_production.responsible.subject import (
    ResponsibleError,
    Subject,
    course_subject,
    load_subject,
    registry_subject,
)

__all__ = [
    "ATTRIBUTES",
    "CONSTRAINTS",
    "DecisionExplanation",
    "FairnessReport",
    "MIN_GROUP",
    "MISSING",
    "Mitigation",
    "ResponsibleError",
    "SigningResult",
    "Subject",
    "Verification",
    "check_fairness_mitigation",
    "check_signed_model",
    "compute_fairness",
    "course_subject",
    "decisions",
    "explain_decision",
    "group_labels",
    "load_subject",
    "mitigate",
    "model_card",
    "permutation_importances",
    "reasons",
    "reference_values",
    "refused_applicants",
    "registry_subject",
    "review_fairness",
    "save_choice",
    "sign_model",
    "signing_paths",
    "verify_folder",
]
