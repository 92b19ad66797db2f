from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from guanxi.core import views as core_views
from guanxi.hierarchy import views as hierarchy_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("api/", include("guanxi.api_urls")),
]
urlpatterns += i18n_patterns(
    path("", hierarchy_views.dashboard, name="home"),
    path("admin/", admin.site.urls),
    path("", include("guanxi.core.urls")),
    path("customers/", include("guanxi.parties.urls")),
    path("tasks/", include("guanxi.playbooks.urls")),
    path("cases/", include("guanxi.engagement.urls")),
    path("assessments/", include("guanxi.assessments.urls")),
    path("dashboard/", include("guanxi.hierarchy.urls")),
    path("scoring/", include("guanxi.scoring.urls")),
    path("imports/", include("guanxi.imports.urls")),
    prefix_default_language=False,
)

# Under /api/ these answer in the API's JSON error shape; elsewhere Django's pages.
handler400 = "guanxi.core.api.bad_request"
handler404 = "guanxi.core.api.not_found"
handler500 = "guanxi.core.api.server_error"
