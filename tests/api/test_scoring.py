"""The scores and scoring-runs endpoints: who sees which snapshots, which run, the filters, cursor
pages that cost the same whatever their length, and queuing a run."""

from __future__ import annotations

import datetime as dt
from base64 import b64encode

import pytest
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import _load_enum_name_overrides
from drf_spectacular.settings import patched_settings
from drf_spectacular.validation import validate_schema

from guanxi.core.models import Event
from guanxi.scoring.models import CustomerScore, ScoringRun
from guanxi.scoring.tasks import score_customers
from tests.api.conftest import RECORDS, ROLES, SEES
from tests.playbooks.factories import customers_bulk, run_create, score_create, scores_bulk

pytestmark = pytest.mark.django_db

SCORES = "/api/v1/scores/"
RUNS = "/api/v1/scoring-runs/"
QUEUED = "/api/v1/scoring-runs/queued/"
STARTERS = {"admin", "manager", "analyst"}


def _queued():
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=score_customers.module_path
    )


@pytest.fixture
def scored(company):
    """An older and a latest successful run scoring the three customers, and a later failed run
    (no scores): own is basic→partnership in the latest run, other proactive, pool reactive."""
    older = run_create(as_of=dt.date(2026, 3, 31))
    latest = run_create(as_of=dt.date(2026, 6, 30))
    run_create(as_of=dt.date(2026, 7, 31), status="failed")
    c = company.customers
    for customer in c.values():
        score_create(older, customer, actual_level="basic", recommended_level="basic")
    score_create(
        latest,
        c["own"],
        actual_level="basic",
        recommended_level="partnership",
        level_gap="under_served",
        abc_class="A",
        lifecycle_stage="decline",
        partnership_stage="cooperative",
        partnership_stage_customer="basic",
        perception_gap=True,
        clv_cents=123_456.5,
        p_alive=0.42,
        level_reason="no_follow_up",
        segment="business|A",
    )
    score_create(
        latest,
        c["other"],
        actual_level="proactive",
        recommended_level="proactive",
        abc_class="B",
        partnership_stage="integrated",
    )
    score_create(latest, c["pool"], actual_level="reactive", lifecycle_stage="churned")
    return {"older": older, "latest": latest}


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["customer"] for row in response.json()["results"]}


# -- scores: who sees what ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_the_scores_of_the_customers_it_sees_in_the_latest_run(
    company, api_as, scored, role
):
    response = api_as(company.users[role]).get(SCORES)
    assert _ids(response) == {company.customers[r].pk for r in SEES[role]}
    assert {row["run"] for row in response.json()["results"]} == {scored["latest"].pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("record", RECORDS)
def test_a_score_of_an_unseen_customer_is_not_found(company, api_as, scored, role, record):
    score = CustomerScore.objects.get(run=scored["latest"], customer=company.customers[record])
    response = api_as(company.users[role]).get(f"{SCORES}{score.pk}/")
    if record in SEES[role]:
        assert response.status_code == 200
        assert response.json()["customer"] == company.customers[record].pk
    else:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_user_without_a_role_gets_nothing(company, api_as, scored):
    assert api_as(company.users["nobody"]).get(SCORES).status_code == 403
    assert api_as(company.users["nobody"]).get(RUNS).status_code == 403


def test_a_read_token_reads_scores(company, api_as, scored):
    assert api_as(company.users["analyst"], scope="read").get(SCORES).status_code == 200


# -- scores: content, runs and filters ---------------------------------------------------------


def test_a_score_carries_its_measures_and_their_explanations(company, api_as, scored):
    rows = api_as(company.users["admin"]).get(SCORES, {"customer": company.customers["own"].pk})
    (row,) = rows.json()["results"]
    assert row["as_of"] == "2026-06-30"
    assert row["customer_external_id"] == "C-OWN" and row["customer_name"] == "Own Trading"
    assert row["actual_level"] == "basic" and row["recommended_level"] == "partnership"
    assert row["level_gap"] == "under_served" and row["level_reason"] == "no_follow_up"
    assert row["partnership_stage"] == "cooperative"
    assert row["partnership_stage_customer"] == "basic" and row["perception_gap"] is True
    assert row["clv_cents"] == 123_456.5 and row["p_alive"] == 0.42
    assert row["abc_class"] == "A" and row["segment"] == "business|A"
    model_fields = {f.name for f in CustomerScore._meta.concrete_fields} - {"run", "customer"}
    assert model_fields <= set(row)
    # No personal data rides along.
    assert not {"phone", "email", "wechat_id", "address"} & set(row)


def test_a_non_finite_measure_is_served_as_null(company, api_as):
    run = run_create(as_of=dt.date(2026, 6, 30))
    score_create(run, company.customers["own"], spend_trend=float("inf"), t_x=float("nan"))
    response = api_as(company.users["admin"]).get(SCORES)
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["spend_trend"] is None and row["t_x"] is None


def test_another_run_or_every_run_is_asked_for_by_run(company, api_as, scored):
    client = api_as(company.users["admin"])
    older = client.get(SCORES, {"run": scored["older"].pk}).json()["results"]
    assert {r["run"] for r in older} == {scored["older"].pk} and len(older) == 3
    history = client.get(SCORES, {"run": "all", "customer": company.customers["own"].pk})
    rows = history.json()["results"]
    assert [(r["run"], r["actual_level"]) for r in rows] == [
        (scored["older"].pk, "basic"),
        (scored["latest"].pk, "basic"),
    ]
    assert client.get(SCORES, {"run": "latest"}).json() == client.get(SCORES).json()


def test_before_any_successful_run_the_list_is_empty(company, api_as):
    run_create(status="failed")
    response = api_as(company.users["admin"]).get(SCORES)
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actual_level": "proactive"}, {"other"}),
        ({"recommended_level": "partnership"}, {"own"}),
        ({"level_gap": "under_served"}, {"own"}),
        ({"abc_class": "B"}, {"other"}),
        ({"lifecycle_stage": "churned"}, {"pool"}),
        ({"partnership_stage": "integrated"}, {"other"}),
        ({"partnership_stage": "none"}, {"pool"}),
        ({"perception_gap": "true"}, {"own"}),
        ({"segment": "business|A"}, {"own"}),
        ({"customer_external_id": "C-POOL"}, {"pool"}),
        ({"abc_class": "A", "lifecycle_stage": "decline"}, {"own"}),
        ({"abc_class": "A", "lifecycle_stage": "churned"}, set()),
    ],
)
def test_the_filters(company, api_as, scored, params, expected):
    response = api_as(company.users["admin"]).get(SCORES, params)
    assert _ids(response) == {company.customers[r].pk for r in expected}


def test_filters_still_follow_the_record_rule(company, api_as, scored):
    client = api_as(company.users["sales"])
    assert _ids(client.get(SCORES, {"customer_external_id": "C-OTHER"})) == set()
    assert _ids(client.get(SCORES, {"run": "all"})) == {
        company.customers["own"].pk,
        company.customers["pool"].pk,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"run": "newest"}, "run"),
        ({"run": "0"}, "run"),
        ({"run": str(2**63)}, "run"),
        ({"customer": "abc"}, "customer"),
        ({"customer": str(10**30)}, "customer"),
        ({"actual_level": "royal"}, "actual_level"),
        ({"partnership_stage": "married"}, "partnership_stage"),
        ({"segment": "x" * 101}, "segment"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(company, api_as, scored, params, field):
    response = api_as(company.users["admin"]).get(SCORES, params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("path", ["abc", str(10**30)])
def test_a_bad_score_id_is_a_404(company, api_as, path):
    assert api_as(company.users["admin"]).get(f"{SCORES}{path}/").status_code == 404


# -- scores: pages ------------------------------------------------------------------------------


def test_pages_follow_the_customers_and_cost_the_same_whatever_their_length(
    company, api_as, django_assert_max_num_queries
):
    run = run_create(as_of=dt.date(2026, 6, 30))
    few = customers_bulk(3, owner=company.users["sales"])
    scores_bulk(run, few)
    client = api_as(company.users["manager"])  # a restricted role: the rule is a subquery
    with CaptureQueriesContext(connection) as baseline:
        assert len(client.get(SCORES).json()["results"]) == 3
    scores_bulk(run, customers_bulk(40, owner=company.users["sales"]))
    seen: list[int] = []
    url, params = SCORES, {"page_size": 15}
    while url:
        with django_assert_max_num_queries(len(baseline.captured_queries)):
            page = client.get(url, params).json()
        seen += [row["customer"] for row in page["results"]]
        url, params = page["next"], None
    assert len(seen) == 43 == len(set(seen))
    assert seen == sorted(seen)


def test_a_forged_cursor_is_a_404_not_an_error(company, api_as, scored):
    forged = b64encode(b"p=abc").decode()
    response = api_as(company.users["admin"]).get(SCORES, {"cursor": forged})
    assert response.status_code == 404


# -- scoring runs: reading ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_runs_newest_first(company, api_as, role):
    first = ScoringRun.objects.create(
        as_of=dt.date(2026, 5, 31), status="succeeded", started_by=company.users["analyst"]
    )
    second = ScoringRun.objects.create(
        as_of=dt.date(2026, 6, 30), status="running", progress=0.42, step="store"
    )
    response = api_as(company.users[role]).get(RUNS)
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [second.pk, first.pk]
    assert rows[0]["progress"] == 0.42 and rows[0]["step_label"] == "storing the scores"
    assert rows[1]["started_by_username"] == "an" and rows[0]["started_by_username"] is None
    assert "metadata" not in rows[0]


def test_a_run_shows_its_diagnostics_as_stored(company, api_as):
    metadata = {
        "models": {"bgnbd": {"params": {"r": 0.81}, "loglik": -1430.5, "converged": True}},
        "timings_s": {"extract": 2.6, "store": 6.5},
        "rows": {"customers": 3},
    }
    run = ScoringRun.objects.create(
        as_of=dt.date(2026, 6, 30),
        status="succeeded",
        metadata=metadata,
        config={"penalizer": 0.0},
        policy={"follow_up_days": 7},
        n_customers=3,
        duration_s=9.1,
        finished_at=timezone.now(),
    )
    body = api_as(company.users["sales"]).get(f"{RUNS}{run.pk}/").json()
    assert body["metadata"] == metadata
    assert body["config"] == {"penalizer": 0.0} and body["policy"] == {"follow_up_days": 7}
    assert body["n_customers"] == 3 and body["duration_s"] == 9.1
    assert api_as(company.users["sales"]).get(f"{RUNS}999999/").status_code == 404


def test_the_runs_filter_on_status_and_page_at_a_fixed_cost(
    company, api_as, django_assert_max_num_queries
):
    client = api_as(company.users["admin"])
    for _ in range(3):
        ScoringRun.objects.create(as_of=dt.date(2026, 1, 1), started_by=company.users["manager"])
    with CaptureQueriesContext(connection) as baseline:
        client.get(RUNS)
    for i in range(30):
        ScoringRun.objects.create(
            as_of=dt.date(2025, 1, 1) + dt.timedelta(days=i),
            status="failed",
            error="boom",
            started_by=company.users["analyst"],
        )
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        rows = client.get(RUNS, {"page_size": 100}).json()["results"]
    assert len(rows) == 33
    failed = client.get(RUNS, {"status": "failed", "page_size": 100}).json()["results"]
    assert len(failed) == 30 and {r["status"] for r in failed} == {"failed"}
    assert client.get(RUNS, {"status": "lost"}).status_code == 400


# -- scoring runs: starting one -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_admin_manager_and_analyst_queue_a_run_and_it_is_audited(company, api_as, role):
    user = company.users[role]
    response = api_as(user).post(RUNS, {"as_of": "2026-03-31"}, format="json")
    if role not in STARTERS:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert not _queued().exists()
        assert not Event.objects.filter(kind="scoring_run.queued").exists()
        return
    assert response.status_code == 202, response.json()
    body = response.json()
    task = _queued().get()
    assert body["task_id"] == str(task.pk) and body["as_of"] == "2026-03-31"
    assert body["requested_by"] == user.pk and body["requested_by_username"] == user.username
    assert task.args_kwargs["kwargs"] == {"as_of": "2026-03-31", "started_by_id": user.pk}
    event = Event.objects.get(kind="scoring_run.queued")
    assert event.actor == user and event.customer is None
    assert event.data == {"task_id": str(task.pk), "as_of": "2026-03-31"}
    assert event.ip_address == "127.0.0.1"
    # Waiting for a worker: listed as queued, not yet a run.
    waiting = api_as(company.users["sales"]).get(QUEUED).json()
    assert [w["task_id"] for w in waiting] == [str(task.pk)]
    assert not ScoringRun.objects.exists()


def test_no_day_means_today(company, api_as):
    response = api_as(company.users["admin"]).post(RUNS, {}, format="json")
    assert response.status_code == 202 and response.json()["as_of"] is None
    assert _queued().get().args_kwargs["kwargs"]["as_of"] is None


def test_a_second_request_while_one_waits_is_a_409(company, api_as):
    client = api_as(company.users["manager"])
    assert client.post(RUNS, {}, format="json").status_code == 202
    again = api_as(company.users["analyst"]).post(RUNS, {"as_of": "2026-01-31"}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert _queued().count() == 1
    assert Event.objects.filter(kind="scoring_run.queued").count() == 1


def test_a_run_in_progress_does_not_refuse_a_request(company, api_as):
    """A worker killed mid-run leaves its run "running" for ever; it must not block every run."""
    ScoringRun.objects.create(as_of=dt.date(2026, 6, 30), status="running")
    response = api_as(company.users["admin"]).post(RUNS, {}, format="json")
    assert response.status_code == 202


def test_a_read_token_may_not_start_a_run(company, api_as):
    response = api_as(company.users["admin"], scope="read").post(RUNS, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "token_read_only"
    assert not _queued().exists()


@pytest.mark.parametrize("as_of", ["tomorrow", "2026-02-30", "31/03/2026", 20260331, "99999-1-1"])
def test_a_day_in_the_future_or_not_a_day_is_refused(company, api_as, as_of):
    if as_of == "tomorrow":
        as_of = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = api_as(company.users["admin"]).post(RUNS, {"as_of": as_of}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["as_of"]
    assert not _queued().exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_the_request_and_its_scores_are_served(company, api_as):
    from tests.scoring.test_services import AS_OF
    from tests.scoring.test_tasks import _store, _work

    _store(30)
    client = api_as(company.users["analyst"])
    assert client.post(RUNS, {"as_of": AS_OF.isoformat()}, format="json").status_code == 202
    _work()
    (run,) = client.get(RUNS).json()["results"]
    assert run["status"] == "succeeded" and run["started_by_username"] == "an"
    assert client.get(QUEUED).json() == []
    scores = client.get(SCORES, {"page_size": 500}).json()["results"]
    assert len(scores) == run["n_customers"] == ScoringRun.objects.get().scores.count()


# -- the schema ---------------------------------------------------------------------------------

# What settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] needs for these endpoints: one name
# for each choice set that several fields use.
ENUM_NAME_OVERRIDES = {
    "RelationshipLevelEnum": "guanxi.hierarchy.choices.RelationshipLevel",
    "PartnershipStageEnum": "guanxi.hierarchy.choices.PartnershipStage",
    "LevelGapEnum": "guanxi.hierarchy.choices.LevelGap",
    "RunStatusEnum": "guanxi.scoring.choices.RunStatus",
    "BondKindEnum": "guanxi.hierarchy.choices.BondKind",
}


def _own_urlconf():
    """A urlconf of the scoring, hierarchy and assessments endpoints only (the other apps'
    endpoints are checked by their own tests)."""
    from types import ModuleType

    from django.urls import include, path
    from rest_framework.routers import SimpleRouter

    from guanxi.assessments import api as assessments_api
    from guanxi.hierarchy import api as hierarchy_api
    from guanxi.scoring import api as scoring_api

    router = SimpleRouter()
    for module in (scoring_api, hierarchy_api, assessments_api):
        for prefix, viewset, basename in module.routes:
            router.register(prefix, viewset, basename=basename)
    urlconf = ModuleType("api_scoring_urls")
    urlconf.urlpatterns = [path("api/v1/", include(router.urls))]
    return urlconf


def test_the_schema_of_these_endpoints_has_no_warnings_and_validates():
    with patched_settings({"ENUM_NAME_OVERRIDES": ENUM_NAME_OVERRIDES}):
        _load_enum_name_overrides.cache_clear()
        GENERATOR_STATS.reset()
        try:
            schema = SchemaGenerator(urlconf=_own_urlconf()).get_schema(request=None, public=True)
            warnings = dict(GENERATOR_STATS._warn_cache)
            errors = dict(GENERATOR_STATS._error_cache)
        finally:
            GENERATOR_STATS.reset()
            _load_enum_name_overrides.cache_clear()
    assert warnings == {} and errors == {}
    validate_schema(schema)
    paths = schema["paths"]
    for path in [
        "/api/v1/scores/",
        "/api/v1/scoring-runs/",
        "/api/v1/scoring-runs/queued/",
        "/api/v1/hierarchy/pyramid/",
        "/api/v1/bonds/{id}/end/",
        "/api/v1/assessments/",
        "/api/v1/relationship-stages/{customer_id}/",
    ]:
        assert path in paths
    assert "202" in paths["/api/v1/scoring-runs/"]["post"]["responses"]
