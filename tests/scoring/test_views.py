"""The scoring runs pages: history, starting a run (queued on the Tasks framework), a run's
progress and its model diagnostics."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from guanxi.core.models import Event
from guanxi.scoring.models import ScoringRun
from guanxi.scoring.tasks import score_customers

pytestmark = pytest.mark.django_db

RUNS = reverse("scoring:run_list")
START = reverse("scoring:run_start")

METADATA = {
    "engine": "duckdb",
    "models": {
        "bgnbd": {
            "params": {"r": 0.811, "alpha": 63.86, "a": 0.7189, "b": 3.3313},
            "stderr": {"r": 0.0057, "alpha": 0.5877, "a": 0.0166, "b": 0.1028},
            "loglik": -1430324.82,
            "n_iter": 5,
            "converged": True,
            "penalizer": 0.0,
            "fallback_penalizer_used": False,
            "n_customers": 88559,
        },
        "gamma_gamma": {
            "params": {"p": 0.8595, "q": 1.08, "v": 953.32},
            "stderr": {"p": 0.0091, "q": 0.0076, "v": 19.17},
            "loglik": -546282.79,
            "n_iter": 7,
            "converged": True,
            "penalizer": 0.001,
            "fallback_penalizer_used": True,
            "n_customers": 63822,
        },
    },
    "rows": {"transactions": 350183, "customers": 100000, "prospects": 11441},
    "counts": {"lifecycle_stage": {"churned": 28795}, "abc_class": {"A": 10544}},
    "timings_s": {"extract": 2.622, "fit_bgnbd": 0.508, "store": 6.543},
    "changes": {"actual_level": 14955},
    "playbooks": {"today": "2026-07-01", "created": 51113},
}


@pytest.fixture
def staff(django_user_model):
    users = {}
    for role in ("admin", "manager", "analyst", "sales", "service"):
        users[role] = django_user_model.objects.create(username=role, first_name=role.title())
        # get_or_create: a transactional test flushes the groups the migration made.
        users[role].groups.add(Group.objects.get_or_create(name=role)[0])
    return users


def _run(as_of=dt.date(2026, 6, 30), status="succeeded", **fields) -> ScoringRun:
    fields.setdefault("error", "ValueError: no purchases" if status == "failed" else "")
    return ScoringRun.objects.create(as_of=as_of, status=status, **fields)


def _queued():
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=score_customers.module_path
    )


# -- history ---------------------------------------------------------------------------------


def test_the_history_lists_runs_newest_first_with_who_started_them(client, staff):
    _run(
        as_of=dt.date(2026, 5, 31), n_customers=1200, duration_s=12.34, started_by=staff["analyst"]
    )
    _run(as_of=dt.date(2026, 6, 30), status="failed", duration_s=0.5)
    client.force_login(staff["sales"])  # anyone signed in may read the history
    response = client.get(RUNS)
    assert response.status_code == 200
    text = response.content.decode()
    rows = re.findall(r'<th scope="row"><a href="/scoring/runs/(\d+)/">([^<]+)</a>', text)
    assert [as_of for _pk, as_of in rows] == ["June 30, 2026", "May 31, 2026"]
    assert "1,200" in text and "12.3 s" in text and "Analyst" in text
    assert "schedule or command line" in text  # the failed run had no user
    assert "Start a scoring run" not in text  # sales may not start one


def test_the_history_pages_with_a_bounded_number_of_queries(
    client, staff, django_assert_max_num_queries
):
    client.force_login(staff["admin"])
    for i in range(3):
        _run(as_of=dt.date(2026, 1, 1) + dt.timedelta(days=i), started_by=staff["manager"])
    with CaptureQueriesContext(connection) as few:
        client.get(RUNS)
    for i in range(30):
        _run(as_of=dt.date(2025, 1, 1) + dt.timedelta(days=i), started_by=staff["analyst"])
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = client.get(RUNS)
    assert first.content.decode().count('<th scope="row"><a href="/scoring/runs/') == 25
    second = client.get(RUNS, {"page": 2}).content.decode()
    assert second.count('<th scope="row"><a href="/scoring/runs/') == 8
    assert "Page 2 of 2" in second


def test_signing_in_is_required(client):
    run = _run()
    for url in (RUNS, reverse("scoring:run_detail", args=[run.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert client.post(START).status_code == 302
    assert not _queued().exists()


# -- starting a run --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager", "analyst"])
def test_admin_manager_and_analyst_queue_a_run(client, staff, role):
    client.force_login(staff[role])
    response = client.post(START, {"as_of": "2026-03-31"}, follow=True)
    assert response.status_code == 200
    task = _queued().get()
    assert task.args_kwargs["kwargs"] == {"as_of": "2026-03-31", "started_by_id": staff[role].pk}
    assert task.queue_name == "scoring"
    text = response.content.decode()
    assert "Scoring run as of March 31, 2026 queued" in text
    assert "Waiting for a worker" in text and "As of March 31, 2026" in text
    # The list watches itself while a run waits.
    assert 'hx-trigger="every 3s"' in text
    event = Event.objects.get(kind="scoring_run.queued")
    assert event.actor == staff[role] and event.data["task_id"] == str(task.pk)


def test_an_empty_day_means_today(client, staff):
    client.force_login(staff["admin"])
    client.post(START, {"as_of": ""})
    assert _queued().get().args_kwargs["kwargs"] == {
        "as_of": None,
        "started_by_id": staff["admin"].pk,
    }


@pytest.mark.parametrize("role", ["sales", "service"])
def test_other_roles_may_not_start_a_run(client, staff, role):
    client.force_login(staff[role])
    assert client.post(START, {"as_of": "2026-03-31"}).status_code == 403
    assert not _queued().exists()


def test_a_day_in_the_future_or_not_a_day_is_refused(client, staff):
    client.force_login(staff["admin"])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(START, {"as_of": tomorrow.isoformat()})
    assert response.status_code == 400
    assert "cannot look ahead" in response.content.decode()
    response = client.post(START, {"as_of": "31/03/2026x"})
    assert response.status_code == 400 and "Enter a valid date" in response.content.decode()
    assert not _queued().exists()


def test_a_second_request_while_one_waits_is_not_queued_twice(client, staff):
    client.force_login(staff["admin"])
    client.post(START, {"as_of": ""})
    response = client.post(START, {"as_of": "2026-01-31"}, follow=True)
    assert "already waiting for a worker" in response.content.decode()
    assert _queued().count() == 1


def test_get_does_not_start_a_run(client, staff):
    client.force_login(staff["admin"])
    assert client.get(START).status_code == 405
    assert not _queued().exists()


# -- one run ---------------------------------------------------------------------------------


def test_a_finished_run_shows_its_model_diagnostics(client, staff):
    run = _run(
        metadata=METADATA,
        n_customers=100000,
        n_transactions=350183,
        duration_s=27.5,
        config={"penalizer": 0.0},
        policy={"follow_up_days": 7},
        started_by=staff["manager"],
        finished_at=timezone.now(),
    )
    client.force_login(staff["sales"])
    response = client.get(reverse("scoring:run_detail", args=[run.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    # Parameters with their standard errors, log-likelihood, convergence, penalizer, fallback.
    assert re.search(
        r"<var>alpha</var></th><td class=\"num\">63.8600</td><td class=\"num\">0.5877", text
    )
    assert "<var>v</var>" in text and "953.3200" in text
    assert (
        "-1430324.82" in text and "yes, in 5 iterations" in text and "yes, in 7 iterations" in text
    )
    assert "fallback used" in text  # Gamma-Gamma needed the fallback penalizer
    assert "100,000" in text and "350,183" in text and "27.5 s" in text
    # Step timings, changes and the playbooks' tasks.
    assert "storing the scores" in text and "6.543" in text
    assert "14,955" in text
    assert "51,113 tasks created, dated from July 1, 2026." in text
    assert "<code>follow_up_days</code>" in text
    assert "hx-trigger" not in text  # nothing to watch


def test_a_running_run_shows_its_progress_and_polls(client, staff):
    run = _run(status="running", progress=0.42, step="store")
    client.force_login(staff["analyst"])
    url = reverse("scoring:run_detail", args=[run.pk])
    text = client.get(url).content.decode()
    assert f'hx-get="{url}" hx-trigger="every 2s"' in text
    assert "storing the scores" in text and 'value="0.420000"' in text and "42%" in text
    # The polled part alone; once the run has ended it stops asking.
    ScoringRun.objects.filter(pk=run.pk).update(status="succeeded", progress=1.0, metadata=METADATA)
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'id="run-body"' in partial
    assert "hx-trigger" not in partial and "Log-likelihood" in partial


def test_a_failed_run_says_why(client, staff):
    run = _run(status="failed", step="extract", error="ValueError: no purchases before 2020-01-01")
    client.force_login(staff["admin"])
    text = client.get(reverse("scoring:run_detail", args=[run.pk])).content.decode()
    assert "The run failed" in text and "ValueError: no purchases before 2020-01-01" in text
    assert "No scores of this run were kept" in text
    assert "reading orders from the store" in text


def test_an_unknown_run_is_not_found(client, staff):
    client.force_login(staff["admin"])
    assert client.get(reverse("scoring:run_detail", args=[999])).status_code == 404


# -- the worker takes the queued run ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_queued_request_and_the_run_names_who_asked(client, staff):
    from tests.scoring.test_services import AS_OF
    from tests.scoring.test_tasks import _store, _work

    _store(80)
    client.force_login(staff["analyst"])
    client.post(START, {"as_of": AS_OF.isoformat()})
    _work()
    run = ScoringRun.objects.get()
    assert run.status == "succeeded" and run.as_of == AS_OF
    assert run.started_by == staff["analyst"] and run.n_customers == 80
    text = client.get(RUNS).content.decode()
    assert "Waiting for a worker" not in text and "Analyst" in text
