"""riskkit: data-protection impact assessment (DSFA, GDPR Art. 35) of school platforms, in Jupyter."""

from importlib.metadata import PackageNotFoundError, version

from .model.assessment import RiskResult, SchoolAssessment, load_school, save_school
from .model.catalogue import Catalogue, load_catalogue
from .model.district import District, load_district
from .model.errors import Problem, RiskkitError, UnknownIdError, ValidationError
from .model.method import Matrix, classify, default_matrix, load_matrix

try:
    __version__ = version("riskkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "Catalogue", "District", "Matrix", "Problem", "RiskResult", "RiskkitError", "SchoolAssessment",
    "UnknownIdError", "ValidationError", "__version__", "classify", "default_matrix", "load_catalogue",
    "load_district", "load_matrix", "load_school", "save_school",
]
