from django.urls import path

from guanxi.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("<int:pk>/", views.upload_detail, name="upload_detail"),
    path("<int:pk>/import/", views.upload_import, name="upload_import"),
    path("<int:pk>/errors.csv", views.upload_errors, name="upload_errors"),
]
