"""loan_model: predict loan approval with the MLOps course's trained pipeline.

>>> from loan_model import make_prediction
>>> make_prediction([{"Credit_History": 1, "ApplicantIncome": 5849, "LoanAmount": 128}])
['Y']
"""

from loan_model.predict import make_prediction, predict_probability

__version__ = "0.1.0"
__all__ = ["__version__", "make_prediction", "predict_probability"]
