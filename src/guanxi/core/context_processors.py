from django.conf import settings


def guanxi(request):
    return {"GUANXI_CURRENCY": settings.CURRENCY}
