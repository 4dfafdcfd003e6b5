"""The learner tokens of the class's API: a bearer token that opens one learner's routes, and only theirs.

The app and the API share `WORKBENCH_API_ADMIN_TOKEN`; a learner's token is an HMAC of their key under it, so
the app can hand each learner their own (chapter VII shows it) without storing it, and the API can check it
without a list. Knowing one learner's token tells nothing about another's, nor about the app's token.
"""

from __future__ import annotations

import hashlib
import hmac

from workbench.core.settings import learner_key


def learner_token(admin_token: str, learner: str) -> str:
    """The bearer token that opens `learner`'s routes, and only theirs (HMAC-SHA256 of the learner's key)."""
    message = f"workbench-learner:{learner_key(learner)}".encode()
    return hmac.new(admin_token.encode(), message, hashlib.sha256).hexdigest()
