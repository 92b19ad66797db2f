from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.assessments import services
from guanxi.assessments.banding import bands_validate
from guanxi.assessments.models import (
    Assessment,
    AssessmentAnswer,
    Questionnaire,
    QuestionnaireItem,
    ScoreBand,
)
from guanxi.core.errors import GuanxiError


def _locked(obj) -> bool:
    return obj is not None and isinstance(obj, Questionnaire) and obj.is_locked


class _LockedInlineMixin:
    """Items and bands of a version that has assessments are shown, not edited."""

    def has_add_permission(self, request, obj=None):
        return not _locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _locked(obj) and super().has_delete_permission(request, obj)


class QuestionnaireItemInline(_LockedInlineMixin, admin.StackedInline):
    model = QuestionnaireItem
    extra = 0
    fieldsets = [
        (None, {"fields": ["position", "dimension", "text_en", "text_zh"]}),
        (
            _("Anchors"),
            {
                "fields": [
                    ("anchor_1_en", "anchor_1_zh"),
                    ("anchor_2_en", "anchor_2_zh"),
                    ("anchor_3_en", "anchor_3_zh"),
                    ("anchor_4_en", "anchor_4_zh"),
                    ("anchor_5_en", "anchor_5_zh"),
                ]
            },
        ),
    ]
    formfield_overrides = {
        # Anchors are a sentence or two; keep the stacked form compact.
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})},
    }


class ScoreBandFormSet(forms.BaseInlineFormSet):
    """The bands, as edited, must cover 1–5 without gaps or overlaps (``bands_validate``)."""

    def clean(self):
        super().clean()
        if any(self.errors) or _locked(self.instance):
            return  # a locked version's bands are shown read-only and not saved
        bands = [
            (f.cleaned_data["stage"], f.cleaned_data["min_score"], f.cleaned_data["max_score"])
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            bands_validate(bands)
        except GuanxiError as error:
            raise forms.ValidationError(error.message) from error


class ScoreBandInline(_LockedInlineMixin, admin.TabularInline):
    model = ScoreBand
    formset = ScoreBandFormSet
    extra = 0
    fields = ["stage", "min_score", "max_score"]
    ordering = ["min_score"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["code", "version", "title_en", "title_zh", "is_active", "updated_at"]
    list_filter = ["is_active", "code"]
    search_fields = ["code", "title_en", "title_zh"]
    inlines = [QuestionnaireItemInline, ScoreBandInline]
    actions = ["make_new_version", "activate"]
    # Activation goes through the actions so that the other versions are deactivated with it.
    readonly_fields = ["is_active", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if _locked(obj):
            return [
                "code",
                "version",
                "title_en",
                "title_zh",
                "description_en",
                "description_zh",
                *self.readonly_fields,
            ]
        return self.readonly_fields

    @admin.action(description=_("Make a new version of the selected questionnaires"))
    def make_new_version(self, request, queryset):
        for questionnaire in queryset:
            copy = services.questionnaire_new_version(questionnaire, actor=request.user)
            self.message_user(
                request,
                gettext("Made %(copy)s from %(source)s; edit it, then activate it.")
                % {"copy": copy, "source": questionnaire},
                messages.SUCCESS,
            )

    @admin.action(description=_("Activate the selected versions"))
    def activate(self, request, queryset):
        for questionnaire in queryset:
            try:
                services.questionnaire_activate(questionnaire=questionnaire, actor=request.user)
            except GuanxiError as error:
                self.message_user(request, f"{questionnaire}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    gettext("%(q)s is now the active version.") % {"q": questionnaire},
                    messages.SUCCESS,
                )


class AssessmentAnswerInline(admin.TabularInline):
    model = AssessmentAnswer
    extra = 0
    fields = ["item", "score", "meaning"]
    readonly_fields = ["item", "score", "meaning"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("item")

    @admin.display(description=_("meaning"))
    def meaning(self, answer):
        return answer.meaning


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    """Assessments are recorded by ``services.assessment_record`` (which scores them); here they
    are read and annotated."""

    list_display = [
        "answered_on",
        "customer",
        "rater_role",
        "rater_display",
        "questionnaire",
        "mean_score_display",
        "stage",
    ]
    list_select_related = ["customer", "questionnaire", "rater"]
    list_filter = ["rater_role", "stage", "questionnaire"]
    search_fields = ["customer__name", "customer__external_id", "rater_name"]
    date_hierarchy = "answered_on"
    raw_id_fields = ["customer", "rater"]
    inlines = [AssessmentAnswerInline]
    fields = [
        "customer",
        "questionnaire",
        "rater_role",
        "rater",
        "rater_name",
        "answered_on",
        "mean_score_display",
        "stage",
        "notes",
    ]
    readonly_fields = [
        "customer",
        "questionnaire",
        "rater_role",
        "rater",
        "rater_name",
        "answered_on",
        "mean_score_display",
        "stage",
    ]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("mean score"), ordering="mean_score")
    def mean_score_display(self, assessment):
        return f"{assessment.mean_score:.2f}"

    @admin.display(description=_("rater"))
    def rater_display(self, assessment):
        return assessment.rater_display
