"""requirements.txt doubles as pip constraints for the Docker images (Dockerfile, Dockerfile.api): no extras."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def test_pins_take_no_extras_so_the_images_can_use_them_as_constraints() -> None:
    lines = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = [line.split("#")[0].strip() for line in lines]
    with_extras = [pin for pin in pins if re.match(r"^[A-Za-z0-9_.-]+\[", pin)]
    assert with_extras == [], f"pip refuses extras in constraints: pin the extra's packages instead: {with_extras}"
