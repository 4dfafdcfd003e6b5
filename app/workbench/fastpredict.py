"""Compiled predictions for in-process callers (chapter XI's attack simulation): the one compiler is
`workbench.api.compiler`, with the API's input table; this module only keeps the old entry point."""

from __future__ import annotations

from typing import Any

from workbench.api.compiler import CompiledPipeline, NotCompilable


def compile_pipeline(pipeline: Any) -> CompiledPipeline | None:
    """The pipeline compiled for the API's 11 input fields, or None when a step cannot be compiled."""
    from workbench.api.compiler import compile_pipeline as compile_for
    from workbench.api.models import API_SCHEMA

    try:
        return compile_for(pipeline, API_SCHEMA)
    except NotCompilable:
        return None
