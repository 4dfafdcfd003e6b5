"""Chapter XI lab, Security tab: evasion (white box, black box, over HTTP), poisoning, extraction,
membership inference, inversion and denial of service, defenses — each attack on a button, with a
time budget, a progress bar and "show me the code".

Split by concern: common, tab, evasion, attacks, defenses."""

from workbench.ui.chapters.ch11_post_production.security.attacks import (
    extraction_section,
    inversion_dos_section,
    membership_section,
    poisoning_section,
)
from workbench.ui.chapters.ch11_post_production.security.common import (
    P,
    _error,
    _pct,
    victim,
)
from workbench.ui.chapters.ch11_post_production.security.defenses import (
    defenses_section,
)
from workbench.ui.chapters.ch11_post_production.security.evasion import (
    evasion_section,
)
from workbench.ui.chapters.ch11_post_production.security.tab import (
    security_tab,
)

__all__ = [
    "P",
    "_error",
    "_pct",
    "defenses_section",
    "evasion_section",
    "extraction_section",
    "inversion_dos_section",
    "membership_section",
    "poisoning_section",
    "security_tab",
    "victim",
]
