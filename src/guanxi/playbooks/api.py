"""REST API of playbooks: the task inbox (list, add, complete, cancel, hand over) and the playbooks
themselves (read; running them for admins and managers). Mounted by ``guanxi.api_urls``.

Tasks are listed for the customers the caller may see, whoever owns them; changing one follows the
task pages: its owner or a manager may complete or cancel it, and hand it over — anyone may hand
over a task nobody owns — to someone in ``users_assignable``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.core.api_fields import (
    MAX_TEXT,
    CustomerFieldsMixin,
    CustomerFilterMixin,
    FlagFilter,
    IdFilter,
    id_field,
    username_field,
)
from guanxi.core.choices import Role
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.requests import client_ip
from guanxi.engagement.api import References, assignable_user
from guanxi.engagement.choices import InteractionChannel, Purpose
from guanxi.engagement.selectors import interactions_visible
from guanxi.parties.api import CustomerReferenceField
from guanxi.parties.selectors import users_assignable
from guanxi.playbooks.choices import TaskPriority, TaskStatus, TriggerKind
from guanxi.playbooks.forms import MANUAL_REASON
from guanxi.playbooks.models import Playbook, PlaybookAction, Task
from guanxi.playbooks.selectors import playbooks_with_actions, task_change_allowed, tasks_visible
from guanxi.playbooks.services import (
    playbooks_run,
    task_assign,
    task_cancel,
    task_complete,
    task_create,
)

# -- tasks -------------------------------------------------------------------------------------


class TaskSerializer(CustomerFieldsMixin, serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text=_("In the language of the request."))
    reason = serializers.CharField(read_only=True, help_text=_("Why the task matters."))
    playbook = serializers.SerializerMethodField(
        help_text=_("The code of the playbook the task is for (its reason); null if added by hand.")
    )
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    owner_username = username_field("owner")
    # Declared, not generated: a generated read-only field loses allow_blank (and the schema the
    # empty value).
    channel = serializers.ChoiceField(
        choices=InteractionChannel.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("The suggested channel; empty: any."),
    )
    order = serializers.IntegerField(source="order_id", read_only=True, allow_null=True)
    run = serializers.IntegerField(source="run_id", read_only=True, allow_null=True)
    completed_by_interaction = serializers.IntegerField(
        source="completed_by_interaction_id", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField(help_text=_("Open and past its due date."))

    class Meta:
        model = Task
        fields = [
            "id",
            "customer",
            "customer_external_id",
            "customer_name",
            "title",
            "reason",
            "reason_key",
            "playbook",
            "purpose",
            "channel",
            "priority",
            "due_on",
            "overdue",
            "owner",
            "owner_username",
            "status",
            "order",
            "run",
            "completes_from",
            "completed_at",
            "completed_by_interaction",
            "cancelled_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_playbook(self, obj: Task) -> str | None:
        code = obj.reason_key.split(":", 1)[0]
        return None if code == MANUAL_REASON else code

    def get_overdue(self, obj: Task) -> bool:
        return obj.status == TaskStatus.OPEN and obj.due_on < self.context.get(
            "today", timezone.localdate()
        )


class TaskCreateSerializer(serializers.Serializer):
    """A task written by hand for one customer (by id, a number, or external id, a string)."""

    customer = CustomerReferenceField()
    title = serializers.CharField(max_length=200)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=MAX_TEXT,
        help_text=_("Shown on the task, so whoever does it knows why it matters."),
    )
    purpose = serializers.ChoiceField(
        choices=Purpose.choices, help_text=_("Logging such a contact completes the task.")
    )
    channel = serializers.ChoiceField(
        choices=InteractionChannel.choices, required=False, allow_blank=True
    )
    priority = serializers.ChoiceField(choices=TaskPriority.choices, default=TaskPriority.NORMAL)
    due_on = serializers.DateField()
    owner = id_field(
        required=False,
        allow_null=True,
        help_text=_(
            "Someone you may give work to, or null for the unassigned pool. Left out: the "
            "customer's account owner if you may give them work, else you."
        ),
    )

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_("Give the task a title."))
        return value.strip()

    def validate_due_on(self, value: dt.date) -> dt.date:
        if value < timezone.localdate():
            raise serializers.ValidationError(
                _("The due date has passed; choose today or a later day.")
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = self.context["request"].user
        attrs = dict(attrs)
        errors: dict[str, list[str]] = {}
        customer = References([attrs], user=user, relations=()).customer(attrs, errors)
        if errors:
            raise serializers.ValidationError(errors)
        attrs["customer"] = customer
        if "owner" in attrs:
            attrs["owner"] = assignable_user(user, attrs["owner"])
        else:  # as the 360 page: the account owner if the caller may give them work, else them
            owner_id = customer.owner_id
            account_owner = (
                users_assignable(user=user).filter(pk=owner_id).first() if owner_id else None
            )
            attrs["owner"] = account_owner or user
        return attrs


class TaskCompleteSerializer(serializers.Serializer):
    interaction = id_field(
        required=False,
        allow_null=True,
        help_text=_("The interaction with the task's customer that carried it out, if any."),
    )


class TaskAssignSerializer(serializers.Serializer):
    owner = id_field(help_text=_("Someone you may give work to."))


_REASON_CODE = RegexValidator(
    r"^[-a-zA-Z0-9_]+$", _("Give a playbook code, or manual for tasks added by hand.")
)


class TaskFilter(CustomerFilterMixin):
    status = django_filters.ChoiceFilter(choices=TaskStatus.choices)
    purpose = django_filters.ChoiceFilter(choices=Purpose.choices)
    priority = django_filters.ChoiceFilter(choices=TaskPriority.choices)
    owner = IdFilter(field_name="owner", label=_("Owner's user id"))
    mine = FlagFilter(method="filter_mine", label=_("Only tasks you own"))
    unassigned = FlagFilter(field_name="owner", lookup_expr="isnull", label=_("Nobody owns it"))
    overdue = FlagFilter(method="filter_overdue", label=_("Open and past the due date"))
    reason = django_filters.CharFilter(
        method="filter_reason",
        max_length=50,
        validators=[_REASON_CODE],
        label=_("The playbook code that issued the task, or manual for tasks added by hand"),
    )

    class Meta:
        model = Task
        fields: list[str] = []

    def filter_mine(self, queryset: QuerySet[Task], name: str, value: bool) -> QuerySet[Task]:
        mine = Q(owner=self.request.user)
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_overdue(self, queryset: QuerySet[Task], name: str, value: bool) -> QuerySet[Task]:
        overdue = Q(status=TaskStatus.OPEN, due_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_reason(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.filter(reason_key__startswith=f"{value}:")


_TASK_RESPONSE = {200: TaskSerializer}


class TaskViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Tasks (任务) of the customers you may see. Analysts read only; a task is changed by its
    owner or a manager (a task nobody owns may be handed over by anyone who works with
    customers)."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    queryset = Task.objects.none()

    def get_queryset(self) -> QuerySet[Task]:
        return tasks_visible(user=self.request.user).select_related("customer", "owner", "wording")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return {
            "create": TaskCreateSerializer,
            "complete": TaskCompleteSerializer,
            "assign": TaskAssignSerializer,
        }.get(self.action, TaskSerializer)

    def _answer(self, task: Task, code: int = status.HTTP_200_OK) -> Response:
        task = self.get_queryset().get(pk=task.pk)
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data, code)

    def _valid(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _task_to_change(self, *, assign: bool = False) -> Task:
        task = self.get_object()
        if not task_change_allowed(user=self.request.user, task=task, assign=assign):
            if assign:
                message = _("Only the task's owner or a manager may hand it over.")
            else:
                message = _("Only the task's owner or a manager may change it.")
            raise GuanxiError(str(message), code=ErrorCode.NOT_ALLOWED)
        return task

    @extend_schema(
        summary="Add a task by hand", request=TaskCreateSerializer, responses={201: TaskSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = dict(self._valid(request))
        task = task_create(
            customer=data.pop("customer"),
            title=data.pop("title"),
            due_on=data.pop("due_on"),
            purpose=data.pop("purpose"),
            actor=request.user,
            **data,
        )
        return self._answer(task, status.HTTP_201_CREATED)

    @extend_schema(summary="Mark the task done", responses=_TASK_RESPONSE)
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        task = self._task_to_change()
        interaction_id = self._valid(request).get("interaction")
        interaction = None
        if interaction_id is not None:
            interaction = interactions_visible(user=request.user).filter(pk=interaction_id).first()
            if interaction is None:
                raise serializers.ValidationError(
                    {"interaction": [_("Not found, or not visible to you.")]}
                )
        return self._answer(task_complete(task=task, interaction=interaction, actor=request.user))

    @extend_schema(summary="Cancel the task", request=None, responses=_TASK_RESPONSE)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        task = self._task_to_change()
        return self._answer(task_cancel(task=task, actor=request.user))

    @extend_schema(summary="Hand the task to someone", responses=_TASK_RESPONSE)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        task = self._task_to_change(assign=True)
        owner = assignable_user(request.user, self._valid(request)["owner"])
        return self._answer(task_assign(task=task, owner=owner, actor=request.user))


# -- playbooks ---------------------------------------------------------------------------------


class PlaybookActionSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True, help_text=_("In the language of the request."))
    reason = serializers.CharField(read_only=True, help_text=_("In the language of the request."))
    fallback_owner = serializers.IntegerField(
        source="fallback_owner_id", read_only=True, allow_null=True
    )
    channel = serializers.ChoiceField(
        choices=InteractionChannel.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("The suggested channel; empty: any."),
    )

    class Meta:
        model = PlaybookAction
        fields = [
            "position",
            "title",
            "reason",
            "purpose",
            "channel",
            "due_offset_days",
            "alert_due_offset_days",
            "owner_rule",
            "fallback_owner",
            "cadence_days",
        ]
        read_only_fields = fields


class PlaybookSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=_("In the language of the request."))
    description = serializers.CharField(
        read_only=True, help_text=_("In the language of the request.")
    )
    conditions = serializers.SerializerMethodField(
        help_text=_(
            "The measures the playbook looks at, each with the values it acts on (a measure not "
            "listed: any value)."
        )
    )
    actions = PlaybookActionSerializer(many=True, read_only=True)

    class Meta:
        model = Playbook
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "name_zh",
            "description",
            "is_active",
            "trigger",
            "window_days",
            "conditions",
            "actions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_conditions(self, obj: Playbook) -> dict[str, list[str]]:
        return obj.conditions()


class PlaybooksRunSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(
        default=False, help_text=_("Count what would be done without writing anything.")
    )


class PlaybookCountsSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    trigger = serializers.ChoiceField(choices=TriggerKind.choices)
    candidates = serializers.IntegerField(
        help_text=_("Customers (or, per purchase, purchases) the conditions matched.")
    )
    created = serializers.IntegerField()
    skipped_open = serializers.IntegerField(
        help_text=_("An open task for the same customer and reason already existed.")
    )
    skipped_recent = serializers.IntegerField(
        help_text=_("Carried out within the action's cadence (or since the purchase).")
    )
    skipped_no_consent = serializers.IntegerField(
        help_text=_("An offer for a customer who did not agree to marketing.")
    )


class PlaybooksRunResultSerializer(serializers.Serializer):
    run = serializers.IntegerField(help_text=_("The scoring run the playbooks acted on."))
    as_of = serializers.DateField()
    today = serializers.DateField()
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField(help_text=_("Tasks issued."))
    skipped_open = serializers.IntegerField()
    skipped_recent = serializers.IntegerField()
    skipped_no_consent = serializers.IntegerField()
    playbooks = PlaybookCountsSerializer(many=True)


class PlaybookViewSet(viewsets.ReadOnlyModelViewSet):
    """Playbooks (营销策略): the actions prescribed for customers at a level, stage, class or gap.
    Every role may read them; admins and managers may run them."""

    serializer_class = PlaybookSerializer
    queryset = Playbook.objects.none()
    action_roles = {"run": {Role.ADMIN, Role.MANAGER}}

    def get_queryset(self) -> QuerySet[Playbook]:
        return playbooks_with_actions()

    def get_serializer_class(self) -> type[serializers.Serializer]:
        return PlaybooksRunSerializer if self.action == "run" else PlaybookSerializer

    @extend_schema(
        summary="Run every active playbook on the latest scoring run",
        description=(
            "Issues the tasks the playbooks call for (never a second open task for the same "
            "customer and reason) in one transaction, and returns the counts. Admins and "
            "managers only. 404 when there is no successful scoring run yet."
        ),
        request=PlaybooksRunSerializer,
        responses={200: PlaybooksRunResultSerializer},
    )
    @action(detail=False, methods=["post"])
    def run(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        summary = playbooks_run(
            actor=request.user,
            dry_run=serializer.validated_data["dry_run"],
            ip_address=client_ip(request),
        )
        body = {
            "run": summary.run_id,
            "as_of": summary.as_of,
            "today": summary.today,
            "dry_run": summary.dry_run,
            "created": summary.created,
            "skipped_open": summary.skipped_open,
            "skipped_recent": summary.skipped_recent,
            "skipped_no_consent": summary.skipped_no_consent,
            "playbooks": [
                {
                    "code": p.code,
                    "name": p.name,
                    "trigger": p.trigger,
                    "candidates": p.candidates,
                    "created": p.created,
                    "skipped_open": p.skipped_open,
                    "skipped_recent": p.skipped_recent,
                    "skipped_no_consent": p.skipped_no_consent,
                }
                for p in summary.playbooks
            ],
        }
        return Response(PlaybooksRunResultSerializer(body).data)


routes = [
    ("tasks", TaskViewSet, "api-task"),
    ("playbooks", PlaybookViewSet, "api-playbook"),
]
