from django.urls import path

from guanxi.engagement import views

app_name = "engagement"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/assign/", views.case_assign_view, name="case_assign"),
    path("<int:pk>/respond/", views.case_respond_view, name="case_respond"),
    path("<int:pk>/transition/", views.case_transition_view, name="case_transition"),
    path("<int:pk>/classify/", views.case_classify_view, name="case_classify"),
]
