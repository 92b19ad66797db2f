"""The task inbox: my open tasks, overdue ones, by reason (playbook), the team's for managers and
the unassigned pool; cancel or hand a task over. A task is completed by logging the interaction
on the customer's 360 page, which is where each task links to.

Every list starts from the tasks of customers the user may see (``visible_through_customer``);
changing a task needs a role that works with customers, and being its owner or a manager.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.core.choices import Role
from guanxi.core.errors import GuanxiError
from guanxi.core.models import StaffProfile
from guanxi.parties.selectors import (
    customer_work_allowed,
    user_roles,
    users_assignable,
    visible_through_customer,
)
from guanxi.playbooks.choices import TaskStatus
from guanxi.playbooks.forms import MANUAL_REASON, TaskAssignForm, TaskFilterForm
from guanxi.playbooks.models import Playbook, Task
from guanxi.playbooks.services import task_assign, task_cancel

PAGE_SIZE = 25


def _team_id(user: Any) -> int | None:
    return StaffProfile.objects.filter(user=user).values_list("team_id", flat=True).first()


def _scopes(user: Any, team_id: int | None) -> list[str]:
    roles = user_roles(user)
    scopes = [TaskFilterForm.MINE]
    if team_id is not None and roles & {Role.MANAGER, Role.ADMIN}:
        scopes.append(TaskFilterForm.TEAM)
    scopes.append(TaskFilterForm.POOL)
    if Role.ADMIN in roles:
        scopes.append(TaskFilterForm.ALL)
    return scopes


def _tasks_visible(user: Any) -> QuerySet[Task]:
    return visible_through_customer(Task.objects.all(), user=user)


def _filtered(
    tasks: QuerySet[Task], data: dict[str, Any], *, user: Any, team_id: int | None
) -> QuerySet[Task]:
    scope = data.get("scope") or TaskFilterForm.MINE
    if scope == TaskFilterForm.MINE:
        tasks = tasks.filter(owner=user)
    elif scope == TaskFilterForm.TEAM:
        tasks = tasks.filter(Q(owner=user) | Q(owner__staff_profile__team_id=team_id))
    elif scope == TaskFilterForm.POOL:
        tasks = tasks.filter(owner__isnull=True)
    if data.get("owner"):
        tasks = tasks.filter(owner_id=int(data["owner"]))
    status = data.get("status") or TaskStatus.OPEN
    tasks = tasks.filter(status=status)
    if data.get("overdue"):
        tasks = tasks.filter(status=TaskStatus.OPEN, due_on__lt=timezone.localdate())
    if data.get("reason"):
        tasks = tasks.filter(reason_key__startswith=f"{data['reason']}:")
    order = {
        TaskStatus.OPEN: ("due_on", "id"),
        TaskStatus.DONE: ("-completed_at", "-id"),
        TaskStatus.CANCELLED: ("-cancelled_at", "-id"),
    }[status]
    return tasks.select_related("customer", "owner", "wording").order_by(*order)


def _playbook_names() -> dict[str, str]:
    return {p.code: p.name for p in Playbook.objects.only("code", "name_en", "name_zh")}


def _row_context(request: HttpRequest, tasks: list[Task], names: dict[str, str]) -> dict[str, Any]:
    """What every task row needs: who it can go to and whether the user may change it."""
    user = request.user
    can_work = customer_work_allowed(user=user)
    manages = bool(user_roles(user) & {Role.MANAGER, Role.ADMIN})
    for task in tasks:
        code = task.reason_key.split(":", 1)[0]
        task.reason_label = _("added by hand") if code == MANUAL_REASON else names.get(code, code)
        task.may_change = can_work and task.is_open and (manages or task.owner_id == user.pk)
        task.may_take = can_work and task.is_open and task.owner_id is None
    owners = list(users_assignable(user=user)) if can_work else []
    return {"today": timezone.localdate(), "owners": owners, "can_work": can_work}


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    team_id = _team_id(user)
    scopes = _scopes(user, team_id)
    names = _playbook_names()
    scope = request.GET.get("scope") or TaskFilterForm.MINE
    owners = None
    if scope in (TaskFilterForm.TEAM, TaskFilterForm.ALL) and scope in scopes:
        owners = users_assignable(user=user)
    form = TaskFilterForm(
        request.GET or None,
        scopes=scopes,
        playbooks=sorted(names.items(), key=lambda item: str(item[1])),
        owners=owners,
    )
    context: dict[str, Any] = {"form": form, "page": None}
    if request.GET and not form.is_valid():
        return render(request, "playbooks/task_list.html", context, status=400)
    data = form.cleaned_data if request.GET else {}
    visible = _tasks_visible(user)
    page = Paginator(_filtered(visible, data, user=user, team_id=team_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    mine = visible.filter(owner=user, status=TaskStatus.OPEN).aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_on__lt=today))
    )
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        page=page,
        mine=mine,
        query=query.urlencode(),
        **_row_context(request, list(page.object_list), names),
    )
    template = "playbooks/_task_results.html" if request.htmx else "playbooks/task_list.html"
    return render(request, template, context)


def _task_to_change(request: HttpRequest, pk: int) -> Task:
    task = get_object_or_404(_tasks_visible(request.user).select_related("customer"), pk=pk)
    if not customer_work_allowed(user=request.user):
        raise PermissionDenied(_("Your role may look at tasks but not change them."))
    return task


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("playbooks:task_list")


def _row_response(request: HttpRequest, task: Task, *, notice: str = "", error: str = ""):
    """The task's row again (htmx), or back to the inbox with a message."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif notice:
            messages.success(request, notice)
        return redirect(_back(request))
    task = Task.objects.select_related("customer", "owner", "wording").get(pk=task.pk)
    context = _row_context(request, [task], _playbook_names())
    context.update(task=task, notice=notice, error=error, next=_back(request))
    return render(request, "playbooks/_task_row.html", context)


@login_required
@require_POST
def task_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_to_change(request, pk)
    manages = bool(user_roles(request.user) & {Role.MANAGER, Role.ADMIN})
    if not (manages or task.owner_id == request.user.pk):
        raise PermissionDenied(_("Only the task's owner or a manager may cancel it."))
    try:
        task = task_cancel(task=task, actor=request.user)
    except GuanxiError as exc:
        return _row_response(request, task, error=exc.message)
    return _row_response(request, task, notice=_("Task cancelled."))


@login_required
@require_POST
def task_assign_view(request: HttpRequest, pk: int) -> HttpResponse:
    task = _task_to_change(request, pk)
    manages = bool(user_roles(request.user) & {Role.MANAGER, Role.ADMIN})
    if not (manages or task.owner_id in (None, request.user.pk)):
        raise PermissionDenied(_("Only the task's owner or a manager may hand it over."))
    form = TaskAssignForm(request.POST, owners=users_assignable(user=request.user))
    if not form.is_valid():
        return _row_response(request, task, error=" ".join(form.errors.get("owner", [])))
    owner = form.cleaned_data["owner"]
    try:
        task = task_assign(task=task, owner=owner, actor=request.user)
    except GuanxiError as exc:
        return _row_response(request, task, error=exc.message)
    name = owner.get_full_name() or owner.get_username()
    return _row_response(request, task, notice=_("Assigned to %(name)s.") % {"name": name})
