"""Probability models of customer lifetime value: BG/NBD, Gamma-Gamma and their CLV.

Django-free; inputs are 1-D numpy arrays, one row per customer.
"""

from guanxi.analytics.clv._base import ModelFitError, NotFittedError
from guanxi.analytics.clv.bgnbd import BetaGeo
from guanxi.analytics.clv.gamma_gamma import GammaGamma
from guanxi.analytics.clv.value import customer_lifetime_value

__all__ = ["BetaGeo", "GammaGamma", "ModelFitError", "NotFittedError", "customer_lifetime_value"]
