from django.contrib import admin

from guanxi.engagement.models import Case, Interaction, SurveyResponse


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "direction", "purpose", "staff"]
    list_select_related = ["customer", "staff"]
    list_filter = ["channel", "direction", "service_phase", "purpose"]
    search_fields = ["external_id", "customer__name", "notes"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["customer", "contact", "order"]
    show_full_result_count = False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["external_id", "subject", "customer", "kind", "severity", "status", "due_at"]
    list_select_related = ["customer"]
    list_filter = ["status", "kind", "severity", "satisfaction"]
    search_fields = ["external_id", "subject", "customer__name"]
    raw_id_fields = ["customer", "contact", "order"]
    # Status changes go through guanxi.engagement.services so that each one leaves an event.
    readonly_fields = ["status", "first_response_at", "resolved_at", "closed_at"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["answered_at", "customer", "csat", "nps"]
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "case"]
