from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from guanxi.core.selectors import home_counts


def home(request: HttpRequest) -> HttpResponse:
    counts = home_counts() if request.user.is_authenticated else None
    return render(request, "core/home.html", {"counts": counts})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
