"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks): also send non-finite numbers.

Schemathesis only generates JSON-compliant numbers, so it never sends NaN, Infinity or 1e999, which Python's
JSON parser (used by FastAPI) accepts. This hook rewrites some generated JSON bodies: one number field of an
application becomes such a literal, and the body is sent as raw bytes. Each rewrite is counted in the file
named by NONFINITE_LOG, so the test can check the hook really ran.
"""

from __future__ import annotations

import json
import os

import schemathesis
from hypothesis import strategies as st

NON_FINITE = ("NaN", "Infinity", "-Infinity", "1e999", "-1e999")
FIELDS = ("ApplicantIncome", "CoapplicantIncome", "LoanAmount", "Loan_Amount_Term", "Credit_History", "Dependents")
PLACEHOLDER = "__NON_FINITE__"


def _rewrite(body, field: str, token: str):
    target = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else body
    if not isinstance(target, dict):
        return body
    target = {**target, field: PLACEHOLDER}
    new = [target, *body[1:]] if isinstance(body, list) else target
    log = os.environ.get("NONFINITE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"{field}={token}\n")
    return json.dumps(new).replace(f'"{PLACEHOLDER}"', token).encode()


@schemathesis.hook
def flatmap_body(context, body):
    """Half of the JSON application bodies get one non-finite number."""
    if not (isinstance(body, dict) or (isinstance(body, list) and body and isinstance(body[0], dict))):
        return st.just(body)
    return st.one_of(
        st.just(body),
        st.tuples(st.sampled_from(FIELDS), st.sampled_from(NON_FINITE)).map(lambda c: _rewrite(body, *c)),
    )
