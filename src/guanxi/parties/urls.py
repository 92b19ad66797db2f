from django.urls import path

from guanxi.parties import views, views_detail

app_name = "parties"

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("export.csv", views.customer_export, name="customer_export"),
    # The customer 360 page and its quick actions (parties/views_detail.py).
    path("<int:pk>/", views_detail.customer_detail, name="customer_detail"),
    path("<int:pk>/timeline/", views_detail.customer_timeline_more, name="customer_timeline"),
    path(
        "<int:pk>/interactions/",
        views_detail.customer_interaction_log,
        name="customer_interaction_log",
    ),
    path("<int:pk>/cases/", views_detail.customer_case_open, name="customer_case_open"),
    path("<int:pk>/tasks/", views_detail.customer_task_add, name="customer_task_add"),
]
