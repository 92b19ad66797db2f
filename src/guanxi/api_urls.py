"""The REST API under ``/api/v1/``, its OpenAPI schema and a locally served docs page.

Each app's ``api.py`` lists its viewsets in ``routes``; adding an app means adding it here.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from guanxi.assessments import api as assessments_api
from guanxi.core import api as core_api
from guanxi.engagement import api as engagement_api
from guanxi.hierarchy import api as hierarchy_api
from guanxi.parties import api as parties_api
from guanxi.playbooks import api as playbooks_api
from guanxi.sales import api as sales_api
from guanxi.scoring import api as scoring_api

router = SimpleRouter()
for module in (
    core_api,
    parties_api,
    sales_api,
    engagement_api,
    playbooks_api,
    scoring_api,
    hierarchy_api,
    assessments_api,
):
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
