from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from guanxi.core.errors import GuanxiError
from guanxi.playbooks import services
from guanxi.playbooks.choices import TaskStatus
from guanxi.playbooks.models import (
    CONDITION_CHOICES,
    Playbook,
    PlaybookAction,
    Task,
    TaskWording,
)


class PlaybookForm(forms.ModelForm):
    """The condition lists as check boxes (none ticked: any value)."""

    class Meta:
        model = Playbook
        fields = [
            "code",
            "is_active",
            "name_en",
            "name_zh",
            "description_en",
            "description_zh",
            "trigger",
            "window_days",
            *CONDITION_CHOICES,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in CONDITION_CHOICES.items():
            model_field = Playbook._meta.get_field(name)
            self.fields[name] = forms.MultipleChoiceField(
                label=model_field.verbose_name,
                choices=choices.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=model_field.help_text,
            )


class PlaybookActionInline(admin.StackedInline):
    model = PlaybookAction
    extra = 0
    raw_id_fields = ["fallback_owner"]
    fieldsets = [
        (None, {"fields": ["position", ("title_en", "title_zh"), ("reason_en", "reason_zh")]}),
        (
            _("Completion and timing"),
            {
                "fields": [
                    ("purpose", "channel"),
                    ("due_offset_days", "alert_due_offset_days", "cadence_days"),
                    ("owner_rule", "fallback_owner"),
                ]
            },
        ),
    ]


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    form = PlaybookForm
    list_display = ["code", "name_en", "name_zh", "trigger", "is_active"]
    list_filter = ["is_active", "trigger"]
    search_fields = ["code", "name_en", "name_zh"]
    inlines = [PlaybookActionInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("code", "is_active"),
                    ("name_en", "name_zh"),
                    ("description_en", "description_zh"),
                    ("trigger", "window_days"),
                ]
            },
        ),
        (_("Conditions (none ticked: any value)"), {"fields": list(CONDITION_CHOICES)}),
    ]


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "due_on",
        "task_title",
        "customer",
        "owner",
        "status",
        "priority",
        "purpose",
        "created_at",
    ]
    list_select_related = ["customer", "owner", "wording"]
    list_filter = ["status", "owner", "priority", "purpose", "action__playbook"]
    search_fields = [
        "reason_key",
        "custom_title",
        "wording__title_en",
        "wording__title_zh",
        "customer__name",
    ]
    date_hierarchy = "due_on"
    raw_id_fields = [
        "customer",
        "owner",
        "order",
        "action",
        "run",
        "wording",
        "completed_by_interaction",
    ]
    show_full_result_count = False
    # Status changes go through guanxi.playbooks.services so that each one leaves an event.
    readonly_fields = [
        "status",
        "completed_at",
        "completed_by_interaction",
        "cancelled_at",
        "created_at",
        "task_reason",
    ]
    actions = ["mark_done", "cancel"]

    @admin.display(description=_("title"))
    def task_title(self, task):
        return task.title

    @admin.display(description=_("reason in words"))
    def task_reason(self, task):
        return task.reason

    def _each_open(self, request, queryset, service, done_message):
        n = 0
        for task in queryset.filter(status=TaskStatus.OPEN):
            try:
                service(task=task, actor=request.user)
            except GuanxiError as error:
                self.message_user(request, error.message, messages.ERROR)
                continue
            n += 1
        self.message_user(request, done_message(n), messages.SUCCESS)

    @admin.action(description=_("Mark the selected open tasks done"))
    def mark_done(self, request, queryset):
        self._each_open(
            request,
            queryset,
            services.task_complete,
            lambda n: ngettext("%(n)d task marked done.", "%(n)d tasks marked done.", n) % {"n": n},
        )

    @admin.action(description=_("Cancel the selected open tasks"))
    def cancel(self, request, queryset):
        self._each_open(
            request,
            queryset,
            services.task_cancel,
            lambda n: ngettext("%(n)d task cancelled.", "%(n)d tasks cancelled.", n) % {"n": n},
        )


@admin.register(TaskWording)
class TaskWordingAdmin(admin.ModelAdmin):
    """Read only: wordings are frozen; reword the playbook action instead."""

    list_display = ["id", "title_en", "title_zh", "action", "created_at"]
    list_select_related = ["action"]
    search_fields = ["title_en", "title_zh"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
