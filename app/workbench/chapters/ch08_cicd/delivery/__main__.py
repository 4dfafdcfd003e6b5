"""`python -m workbench.chapters.ch08_cicd.delivery gate|promote`: the pipeline's command line (see the Jenkinsfile)."""

import sys

from workbench.chapters.ch08_cicd.delivery.cli import main

sys.exit(main())
