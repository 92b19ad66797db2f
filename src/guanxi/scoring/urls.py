from django.urls import path

from guanxi.scoring import views

app_name = "scoring"

urlpatterns = [
    path("runs/", views.run_list, name="run_list"),
    path("runs/start/", views.run_start, name="run_start"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
]
