"""Guanxi (关系): a CRM built around the customer relationship hierarchy.

Importing this package must stay cheap and Django-free: ``guanxi.analytics`` is used from notebooks
and the CLI without any Django settings.
"""

__version__ = "0.1.0"
