from django.contrib import admin

from guanxi.scoring.models import CustomerScore, ScoringRun


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "as_of",
        "status",
        "n_customers",
        "duration_s",
        "started_by",
        "started_at",
    ]
    list_filter = ["status"]
    list_select_related = ["started_by"]
    readonly_fields = [f.name for f in ScoringRun._meta.fields]

    def has_add_permission(self, request):
        return False  # runs are started with `guanxi score` (and the scoring page)


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    list_display = ["customer", "run", "lifecycle_stage", "abc_class", "rfm_segment", "clv_cents"]
    list_filter = ["lifecycle_stage", "abc_class"]
    list_select_related = ["customer", "run"]
    raw_id_fields = ["customer", "run"]
    show_full_result_count = False
