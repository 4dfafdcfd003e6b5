"""Request and response bodies of the prediction API (pydantic v2): the course's 11 fields, validated."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from workbench.core.loan_schema import LOAN_SCHEMA, Column

_DEPENDENTS_ALIASES = dict(LOAN_SCHEMA["Dependents"].aliases)  # 3 → "3+"


class _Application(BaseModel):
    """One loan application: the 11 inputs of the course model. Null is allowed where the course data
    has missing values (the model imputes them)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "Gender": "Male",
                    "Married": "Yes",
                    "Dependents": "0",
                    "Education": "Graduate",
                    "Self_Employed": "No",
                    "ApplicantIncome": 5849,
                    "CoapplicantIncome": 0,
                    "LoanAmount": 128,
                    "Loan_Amount_Term": 360,
                    "Credit_History": 1,
                    "Property_Area": "Urban",
                }
            ]
        },
    )

    Loan_ID: str | None = Field(
        default=None,
        max_length=32,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="Optional identifier, echoed back (no control characters)",
    )

    @field_validator("Dependents", mode="before", check_fields=False)
    @classmethod
    def _dependents_as_text(cls, value: Any) -> Any:
        """Accept 0, 1, 2 and 3 as numbers too (3 means "3+")."""
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            text = str(int(value))
            return _DEPENDENTS_ALIASES.get(text, text)
        return value

    @field_validator("Credit_History", mode="before", check_fields=False)
    @classmethod
    def _credit_history_as_int(cls, value: Any) -> Any:
        """Accept 0.0 and 1.0, and "0"/"1" as text (as in CSV files)."""
        if isinstance(value, str) and value.strip() in ("0", "1", "0.0", "1.0"):
            return int(float(value))
        if isinstance(value, float) and value in (0.0, 1.0):
            return int(value)
        return value

    def features(self) -> dict[str, Any]:
        """The 11 model inputs as a plain dict (None for missing)."""
        return self.model_dump(exclude={"Loan_ID"})


def _field(column: Column) -> tuple[Any, Any]:
    """The pydantic annotation and field of one schema column: a category is a `Literal`, a number a finite
    float inside its interval (NaN, Infinity and 1e999 are answered with a 422 naming the field), Credit_History
    0 or 1; nullable columns are optional."""
    kind: Any
    if column.kind == "category":
        kind = Literal[column.categories]
    elif column.kind == "binary":
        assert column.interval is not None
        kind = Literal[tuple(range(int(column.interval.low), int(column.interval.high) + 1))]
    else:
        assert column.interval is not None
        low = {"gt" if column.interval.low_open else "ge": column.interval.low}
        kind = Annotated[float, Field(**low, le=column.interval.high, allow_inf_nan=False)]
    description = column.description or None
    if column.nullable:
        return kind | None, Field(default=None, description=description)
    return kind, Field(description=description)


#: One loan application, its fields derived from the app's one loan schema (`core.loan_schema`).
LoanApplication = create_model(
    "LoanApplication",
    __base__=_Application,
    __doc__=_Application.__doc__,
    __module__=__name__,
    **{name: _field(column) for name, column in LOAN_SCHEMA.items()},
)


class Prediction(BaseModel):
    """The model's answer for one application."""

    prediction: Literal["Y", "N"] = Field(description="Y: approved, N: rejected")
    label: Literal["Approved", "Rejected"]
    probability: float = Field(ge=0, le=1, description="Probability of approval")
    model_version: str
    model_source: Literal["registry", "fallback"] = Field(
        description="registry: the alias's version; fallback: a model trained at start-up (no registry model yet)"
    )
    Loan_ID: str | None = None


class BatchPrediction(BaseModel):
    """Answers for a batch, in the order of the inputs."""

    predictions: list[Prediction]
    count: int
    model_version: str
    model_source: Literal["registry", "fallback"]


class Status(BaseModel):
    """The course's historical answer format (`/predict_status`)."""

    status: Literal["Approved", "Rejected"]


class Health(BaseModel):
    """Liveness and readiness: 200 whenever a model serves; `degraded` says something needs attention."""

    status: Literal["ok", "degraded"]
    model_loaded: bool
    model_version: str
    model_source: Literal["registry", "fallback"]
    problems: list[str] = Field(default_factory=list, description="What is wrong, when degraded")


class Refused(BaseModel):
    """A registry version the API would not serve."""

    version: str
    reason: str = Field(description="pickle_format, untrusted_types, not_sklearn, unreadable or smoke_test")
    params: dict[str, str] = Field(default_factory=dict, description="Details of the reason (format, types...)")
    message: str
    at: float


class Batching(BaseModel):
    """What micro-batching did since the API started."""

    calls: int = Field(description="predict_proba calls made by the batcher")
    requests: int = Field(description="requests they answered")
    rows: int
    window: float = Field(description="seconds the next call waits for more requests (0 with one client)")
    requests_per_call: float


class Serving(BaseModel):
    """How the model is served, and why."""

    path: Literal["compiled", "batched", "plain"] = Field(
        description="compiled: the pipeline turned into NumPy and checked against its own answers; batched: "
        "concurrent requests share one predict_proba call; plain: one call per request"
    )
    reason: str
    unsupported_step: str | None = Field(default=None, description="The step the compiler could not compile")
    batching: Batching


class ModelInfo(BaseModel):
    """Which model the API serves and where it comes from."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    source: Literal["registry", "fallback"]
    source_detail: str
    loaded_at: float
    fast_path: bool = Field(description="True when the compiled path serves (see `serving`)")
    serving: Serving
    metrics: dict[str, float]
    input_schema: dict[str, Any]
    refused: Refused | None = Field(default=None, description="The last candidate version refused, if any")
    registry_problem: str | None = Field(default=None, description="Why the registry could not be read, if so")
    alias_missing: bool = Field(default=False, description="The alias was removed; the last model keeps serving")
    problems: list[str] = Field(default_factory=list, description="All of the above, as sentences")
