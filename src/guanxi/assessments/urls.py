from django.urls import path

from guanxi.assessments import views

app_name = "assessments"
urlpatterns = [
    path("", views.assessment_index, name="assessment_list"),
    path("customers/<int:pk>/", views.assessment_customer, name="customer"),
    path("customers/<int:pk>/new/", views.assessment_new, name="new"),
]
