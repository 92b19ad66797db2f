from django.urls import path

from guanxi.hierarchy import views

app_name = "hierarchy"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("migration/", views.dashboard_migration, name="dashboard_migration"),
    path("at-risk/", views.dashboard_at_risk, name="dashboard_at_risk"),
]
