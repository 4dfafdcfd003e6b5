"""Request and response bodies of the prediction API (pydantic v2): the course's 11 fields, validated."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workbench.core.data import NUMERIC_RANGES

#: Numbers are finite: NaN, Infinity and 1e999 are answered with a 422 naming the field.
Money = Annotated[
    float,
    Field(ge=NUMERIC_RANGES["ApplicantIncome"][0], le=NUMERIC_RANGES["ApplicantIncome"][1], allow_inf_nan=False),
]


class LoanApplication(BaseModel):
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
    Gender: Literal["Male", "Female"] | None = None
    Married: Literal["Yes", "No"] | None = None
    Dependents: Literal["0", "1", "2", "3+"] | None = Field(default=None, description='"0", "1", "2" or "3+"')
    Education: Literal["Graduate", "Not Graduate"]
    Self_Employed: Literal["Yes", "No"] | None = None
    ApplicantIncome: Money = Field(description="Monthly income of the applicant")
    CoapplicantIncome: Money = Field(description="Monthly income of the co-applicant (0 if none)")
    LoanAmount: float | None = Field(
        default=None, gt=0, le=NUMERIC_RANGES["LoanAmount"][1], allow_inf_nan=False, description="Amount in thousands"
    )
    Loan_Amount_Term: float | None = Field(
        default=None, gt=0, le=NUMERIC_RANGES["Loan_Amount_Term"][1], allow_inf_nan=False, description="Term in months"
    )
    Credit_History: Literal[0, 1] | None = Field(default=None, description="1 if the credit history meets guidelines")
    Property_Area: Literal["Urban", "Semiurban", "Rural"]

    @field_validator("Dependents", mode="before")
    @classmethod
    def _dependents_as_text(cls, value: Any) -> Any:
        """Accept 0, 1, 2 and 3 as numbers too (3 means "3+")."""
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            number = int(value)
            return "3+" if number == 3 else str(number)
        return value

    @field_validator("Credit_History", mode="before")
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


class ModelInfo(BaseModel):
    """Which model the API serves and where it comes from."""

    name: str
    version: str
    alias: str | None
    run_id: str | None
    source: Literal["registry", "fallback"]
    source_detail: str
    loaded_at: float
    fast_path: bool
    metrics: dict[str, float]
    input_schema: dict[str, Any]
    refused: Refused | None = Field(default=None, description="The last candidate version refused, if any")
    registry_problem: str | None = Field(default=None, description="Why the registry could not be read, if so")
    alias_missing: bool = Field(default=False, description="The alias was removed; the last model keeps serving")
    problems: list[str] = Field(default_factory=list, description="All of the above, as sentences")
