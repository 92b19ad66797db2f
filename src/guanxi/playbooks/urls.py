from django.urls import path

from guanxi.playbooks import views

app_name = "playbooks"

urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("<int:pk>/cancel/", views.task_cancel_view, name="task_cancel"),
    path("<int:pk>/assign/", views.task_assign_view, name="task_assign"),
]
