"""The dashboard: what it shows equals what the scores hold, under every filter and role."""

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import Group
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.hierarchy.selectors import (
    AT_RISK_Q,
    DashboardScope,
    clv_histogram,
    dashboard_scopes,
    distribution,
    gap_at_stake,
    latest_run,
    pareto_curve,
    standing_summary,
)
from guanxi.parties.models import Customer
from guanxi.scoring.models import CustomerScore
from tests.playbooks.factories import customers_bulk, run_create, score_create

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 30)
EARLIER = dt.date(2026, 3, 31)
LEVELS = ["basic", "reactive", "accountable", "proactive", "partnership"]
DASHBOARD = reverse("hierarchy:dashboard")
MIGRATION = reverse("hierarchy:dashboard_migration")
AT_RISK = reverse("hierarchy:dashboard_at_risk")


def _customer(name: str, customer_type: str, owner=None) -> Customer:
    return Customer.objects.create(
        external_id=f"D-{name}", name=name, customer_type=customer_type, owner=owner
    )


def _gap(actual: str, recommended: str) -> str:
    a, r = LEVELS.index(actual), LEVELS.index(recommended)
    return "under_served" if r > a else "over_served" if r < a else "on_target"


def _score(run, customer, *, actual="basic", recommended="basic", **measures):
    measures.setdefault("abc_class", "C")
    measures.setdefault("segment", f"{customer.customer_type}/{measures['abc_class']}")
    return score_create(
        run,
        customer,
        actual_level=actual,
        recommended_level=recommended,
        level_gap=_gap(actual, recommended),
        **measures,
    )


@pytest.fixture
def staff(django_user_model):
    """One user per role (no password: the tests log in with force_login), and one with none."""
    users = {}
    for name, role in [
        ("ada", "admin"),
        ("mo", "manager"),
        ("sam", "sales"),
        ("sue", "sales"),
        ("ann", "analyst"),
        ("sid", "service"),
        ("nobody", None),
    ]:
        users[name] = django_user_model.objects.create(username=name, first_name=name.title())
        if role:
            users[name].groups.add(Group.objects.get_or_create(name=role)[0])
    return users


@pytest.fixture
def book(staff):
    """Two runs over a small book of customers whose every measure is chosen.

    Latest run (as of TODAY) — customer: type, owner, class, stage, level actual→recommended,
    profit, CLV:
      big     business  sam   A  decline    basic→partnership  5,000.00  10,000.00  at risk
      sick    business  sue   B  stability  reactive→reactive  2,000.00   3,000.00  at risk
                                                                            (foundation)
      gone    consumer  -     C  churned    accountable→basic    100.00       0.50
      lost    consumer  -     A  churned    basic→basic        3,000.00     500.00  at risk
      new     channel   sam   C  prospect   basic→basic            0.00      (none)
      inner   internal  sue   B  formation  proactive→accountable -50.00     20.00
    The earlier run (as of EARLIER) scored big as reactive, did not score lost, and scored
    "left" (not in the latest run).
    """
    sam, sue = staff["sam"], staff["sue"]
    c = {
        "big": _customer("Big Buyer", "business", sam),
        "sick": _customer("Sick Supplier", "business", sue),
        "gone": _customer("Gone Girl", "consumer"),
        "lost": _customer("Lost Lamb", "consumer"),
        "new": _customer("New Channel", "channel", sam),
        "inner": _customer("Inner Unit", "internal", sue),
        "left": _customer("Left Already", "consumer"),
    }
    earlier = run_create(as_of=EARLIER)
    latest = run_create(as_of=TODAY)
    rows = {
        "big": dict(
            actual="basic",
            recommended="partnership",
            abc_class="A",
            lifecycle_stage="decline",
            profit_cents=500_000,
            clv_cents=1_000_000.0,
        ),
        "sick": dict(
            actual="reactive",
            recommended="reactive",
            abc_class="B",
            lifecycle_stage="stability",
            foundation_health="at_risk",
            health_reasons="late_delivery,returns",
            profit_cents=200_000,
            clv_cents=300_000.0,
        ),
        "gone": dict(
            actual="accountable",
            recommended="basic",
            abc_class="C",
            lifecycle_stage="churned",
            profit_cents=10_000,
            clv_cents=50.0,
        ),
        "lost": dict(
            abc_class="A", lifecycle_stage="churned", profit_cents=300_000, clv_cents=50_000.0
        ),
        "new": dict(lifecycle_stage="prospect", profit_cents=0, clv_cents=None),
        "inner": dict(
            actual="proactive",
            recommended="accountable",
            abc_class="B",
            lifecycle_stage="formation",
            profit_cents=-5_000,
            clv_cents=2_000.0,
        ),
    }
    for name, measures in rows.items():
        _score(latest, c[name], **measures)
    for name in ("big", "sick", "gone", "new", "inner"):
        measures = dict(rows[name])
        if name == "big":
            measures["actual"] = "reactive"
        _score(earlier, c[name], **measures)
    _score(earlier, c["left"], lifecycle_stage="decline", profit_cents=7_000, clv_cents=10.0)
    return {"customers": c, "latest": latest, "earlier": earlier}


def _get(client, user, url=DASHBOARD, **params):
    client.force_login(user)
    return client.get(url, params)


def _figure(response, element_id: str) -> dict:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no {element_id} in the page"
    return json.loads(match.group(1))


def _kpi(response, label: str) -> str:
    text = response.content.decode()
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", text)
    assert match, f"no {label} figure"
    return match.group(1)


# -- what the page shows ---------------------------------------------------------------------


def test_without_a_run_the_dashboard_says_so_and_offers_to_start_one(client, staff):
    response = _get(client, staff["ann"])
    assert response.status_code == 200
    text = response.content.decode()
    assert "No scoring run yet" in text
    assert reverse("scoring:run_list") in text and "Start a scoring run" in text
    assert "plotly" in text  # the page's scripts are served from our own static files

    text = _get(client, staff["sam"]).content.decode()
    assert "No scoring run yet" in text and "Start a scoring run" not in text


def test_signing_in_is_required(client, book):
    for url in (DASHBOARD, MIGRATION, AT_RISK):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_figures_and_the_pyramid_equal_the_scores(client, staff, book):
    response = _get(client, staff["ada"])
    assert response.status_code == 200
    latest = book["latest"]
    scores = CustomerScore.objects.filter(run=latest)
    assert _kpi(response, "Customers") == "6"
    assert _kpi(response, "Profit") == "¥10,050"  # 5,000 + 2,000 + 100 + 3,000 + 0 - 50
    assert _kpi(response, "High-value customers at risk") == "3"  # big, sick, lost
    assert scores.filter(AT_RISK_Q).count() == 3

    figure = _figure(response, "pyramid-figure")
    actual, recommended = figure["data"]
    for level, shown_actual, shown_recommended in zip(
        LEVELS, actual["x"], recommended["x"], strict=True
    ):
        # Actual to the left of the axis (negative), recommended to the right.
        assert -shown_actual == scores.filter(actual_level=level).count()
        assert shown_recommended == scores.filter(recommended_level=level).count()
    assert actual["y"][0] == "basic" and actual["y"][-1] == "partnership"  # widest at the base
    assert actual["customdata"][0][2] == pytest.approx(
        (300_000 + 0 + 500_000) / 1_005_000
    )  # basic's share of profit: lost, new, big


def test_the_gap_matrix_counts_recommended_against_actual_with_the_profit_at_stake(
    client, staff, book
):
    response = _get(client, staff["ada"])
    context = response.context
    rows = {row["label"]: row["cells"] for row in context["gap"]["rows"]}
    partnership_row = rows["partnership"]  # recommended partnership, actual basic: big
    assert partnership_row[0]["cell"].customers == 1
    assert partnership_row[0]["cell"].profit_cents == 500_000
    assert partnership_row[0]["gap"] == "under_served"
    stake = {s["gap"]: s for s in context["gap"]["stake"]}
    assert stake == {
        g: {"gap": g, "label": stake[g]["label"], **v}
        for g, v in gap_at_stake(book["latest"]).items()
    }
    assert stake["under_served"]["customers"] == 1
    assert stake["over_served"]["profit_cents"] == 10_000 - 5_000  # gone and inner


def test_the_summary_agrees_with_the_existing_selectors(book):
    run = book["latest"]
    standing = standing_summary(run)
    for measure in ("actual_level", "recommended_level", "lifecycle_stage", "abc_class"):
        assert standing.distribution(measure) == distribution(run, measure)
    assert standing.gap_at_stake() == gap_at_stake(run)


def test_the_pareto_curve_and_the_clv_histogram_are_exact_at_their_thresholds(book):
    run = book["latest"]
    scores = CustomerScore.objects.filter(run=run)
    standing = standing_summary(run)
    points = pareto_curve(run, top_profit_cents=standing.max_profit_cents)
    total = scores.aggregate(Sum("profit_cents"))["profit_cents__sum"]
    assert (points[0].customer_share, points[0].profit_share) == (0.0, 0.0)
    assert points[-1].customer_share == pytest.approx(1.0)
    assert points[-1].profit_share == pytest.approx(1.0)
    for point in points[1:-1]:
        at_least = scores.filter(profit_cents__gte=point.threshold_cents)
        assert point.customer_share == pytest.approx(at_least.count() / 6)
        assert point.profit_share == pytest.approx(
            at_least.aggregate(Sum("profit_cents"))["profit_cents__sum"] / total
        )
    # Shares only grow as less profitable customers join (until the loss-maker at the end).
    assert [p.customer_share for p in points] == sorted(p.customer_share for p in points)

    bins = clv_histogram(run, top_clv_cents=standing.max_clv_cents)
    assert sum(b.customers for b in bins) == scores.filter(clv_cents__isnull=False).count()
    for b in bins:
        rows = scores.filter(clv_cents__isnull=False)
        if b.low_cents is not None:
            rows = rows.filter(clv_cents__gte=b.low_cents)
        if b.high_cents is not None:
            rows = rows.filter(clv_cents__lt=b.high_cents)
        assert b.customers == rows.count()
    assert (bins[0].low_cents, bins[0].high_cents, bins[0].customers) == (None, 100, 1)  # ¥0.50
    assert bins[-1].low_cents <= 1_000_000 < bins[-1].high_cents  # the largest CLV is in the last


def test_both_ways_of_counting_ranges_agree(book):
    """Without customer filters the ranges are counted by subqueries, with them by one grouped
    query; a filter that keeps everyone must give the same curve and histogram."""
    run = book["latest"]
    standing = standing_summary(run)
    everyone = DashboardScope(customers=Customer.objects.filter(pk__gt=0))
    assert pareto_curve(run, top_profit_cents=standing.max_profit_cents) == pareto_curve(
        run, scope=everyone, top_profit_cents=standing.max_profit_cents
    )
    assert clv_histogram(run, top_clv_cents=standing.max_clv_cents) == clv_histogram(
        run, scope=everyone, top_clv_cents=standing.max_clv_cents
    )


def test_the_work_list_names_the_customers_at_risk_most_profitable_first(client, staff, book):
    response = _get(client, staff["ada"])
    text = response.content.decode()
    rows = re.findall(r'<th scope="row" class="customer-name"><a href="([^"]+)">([^<]+)</a>', text)
    c = book["customers"]
    assert rows == [
        (reverse("parties:customer_detail", args=[c[name].pk]), label)
        for name, label in [("big", "Big Buyer"), ("lost", "Lost Lamb"), ("sick", "Sick Supplier")]
    ]
    assert "basics at risk: late deliveries, returns" in text
    assert "Gone Girl" not in text.split('id="at-risk-panel"')[1]  # churned, but class C


# -- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer_type": "business"}, {"big", "sick"}),
        ({"customer_type": "consumer"}, {"gone", "lost"}),
        ({"owner": "SAM"}, {"big", "new"}),
        ({"owner": "none"}, {"gone", "lost"}),
        ({"segment": "business/A"}, {"big"}),
        ({"customer_type": "consumer", "segment": "consumer/A"}, {"lost"}),
    ],
)
def test_filters_narrow_every_panel(client, staff, book, params, expected):
    if params.get("owner") == "SAM":
        params = {**params, "owner": str(staff["sam"].pk)}
    response = _get(client, staff["ada"], **params)
    assert response.status_code == 200
    c = book["customers"]
    scores = CustomerScore.objects.filter(
        run=book["latest"], customer__in=[c[name] for name in expected]
    )
    assert _kpi(response, "Customers") == str(len(expected))
    figure = _figure(response, "pyramid-figure")
    assert -sum(figure["data"][0]["x"]) == len(expected)
    funnel = _figure(response, "funnel-figure")["data"][0]
    stages = dict(zip(funnel["y"], funnel["x"], strict=True))
    for stage, n in scores.values_list("lifecycle_stage").annotate(n=Count("id")):
        assert stages[stage] == n
    at_risk = scores.filter(AT_RISK_Q).count()
    assert _kpi(response, "High-value customers at risk") == str(at_risk)
    # The migration panel loads with the same filters.
    assert f'hx-get="{MIGRATION}?' in response.content.decode()


def test_a_segment_without_customers_says_so(client, staff, book):
    response = _get(client, staff["ada"], segment="martian/Z")
    assert response.status_code == 200
    assert "No customers match these filters" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"customer_type": "alien"}, "Customer type"),
        ({"owner": "999999"}, "Account owner"),
        ({"owner": "abc"}, "Account owner"),
        ({"segment": "x" * 101}, "Segment"),
    ],
)
def test_bad_filters_are_refused_with_the_reason(client, staff, book, params, field):
    response = _get(client, staff["ada"], **params)
    assert response.status_code == 400
    text = response.content.decode()
    assert "These filters cannot be applied" in text and f"{field}:" in text
    # Through htmx the same errors come back in the swapped part.
    client.force_login(staff["ada"])
    partial = client.get(DASHBOARD, params, HTTP_HX_REQUEST="true")
    assert (
        partial.status_code == 200 and "These filters cannot be applied" in partial.content.decode()
    )


# -- who sees what ---------------------------------------------------------------------------


def test_a_sales_user_sees_aggregates_of_their_own_and_the_unassigned_customers(
    client, staff, book
):
    response = _get(client, staff["sam"])
    c = book["customers"]
    mine = {"big", "new", "gone", "lost"}  # sam's two and the unassigned pool
    assert _kpi(response, "Customers") == str(len(mine))
    assert _kpi(response, "Profit") == "¥8,100"
    text = response.content.decode()
    assert "Sick Supplier" not in text  # sue's customer, at risk, but not sam's to see
    owners = dict(response.context["form"].fields["owner"].choices)
    assert str(staff["sam"].pk) in owners and str(staff["sue"].pk) not in owners
    # Asking for sue's customers is not allowed, rather than showing nothing.
    assert _get(client, staff["sam"], owner=str(staff["sue"].pk)).status_code == 400
    assert c["sick"].owner == staff["sue"]


def test_a_manager_sees_every_customer_in_aggregates_but_lists_only_their_own(client, staff, book):
    response = _get(client, staff["mo"])
    assert _kpi(response, "Customers") == "6"
    # The manager has no team and owns nothing: the work list holds the unassigned pool only.
    rows = re.findall(
        r'class="customer-name"><a href="[^"]+">([^<]+)</a>', response.content.decode()
    )
    assert rows == ["Lost Lamb"]
    assert _kpi(response, "High-value customers at risk") == "1"
    aggregates, lists = dashboard_scopes(user=staff["mo"])
    assert aggregates.customers is None and lists.customers is not None


@pytest.mark.parametrize("name", ["ada", "ann", "sid"])
def test_roles_that_see_everyone_pay_for_no_customer_subquery(staff, book, name):
    aggregates, lists = dashboard_scopes(user=staff[name])
    assert aggregates is lists and aggregates.customers is None


def test_a_user_without_a_role_sees_no_customers(client, staff, book):
    response = _get(client, staff["nobody"])
    assert response.status_code == 200
    assert "No customers match these filters" in response.content.decode()


# -- htmx partials -----------------------------------------------------------------------------


def test_an_htmx_request_gets_the_filters_and_panels_only(client, staff, book):
    client.force_login(staff["ada"])
    response = client.get(DASHBOARD, {"customer_type": "business"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in text and 'id="dashboard-filters"' in text
    assert "<dt>Customers</dt><dd>2</dd>" in text
    # The segments offered follow the other filters.
    assert re.findall(r'<option value="([^"]*/[^"]*)"', text) == ["business/A", "business/B"]


def test_the_work_list_pages_through_htmx(client, staff, book):
    owner = staff["sam"]
    extra = customers_bulk(25, owner=owner)
    for i, customer in enumerate(extra):
        _score(book["latest"], customer, abc_class="B", lifecycle_stage="churned", profit_cents=i)
    client.force_login(staff["ada"])
    first = client.get(DASHBOARD)
    assert "Page 1 of 2" in first.content.decode()
    second = client.get(AT_RISK, {"page": 2}, HTTP_HX_REQUEST="true")
    text = second.content.decode()
    assert second.status_code == 200 and "<html" not in text
    assert text.count('class="customer-name"') == 28 - 20
    assert "Page 2 of 2" in text
    # Filtered: only sam's and the pool's.
    mine = client.get(AT_RISK, {"owner": str(owner.pk)}, HTTP_HX_REQUEST="true")
    assert mine.content.decode().count('class="customer-name"') == 20
    assert "Big Buyer" in mine.content.decode()


def test_the_migration_panel_counts_moves_between_the_last_two_runs(client, staff, book):
    client.force_login(staff["ada"])
    response = client.get(MIGRATION, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text
    matrix = response.context["matrix"]
    assert matrix.cell("reactive", "basic").customers == 1  # big came down a level
    assert matrix.cell("reactive", "basic").profit_cents == 500_000
    assert (matrix.entered, matrix.left, matrix.moved) == (1, 1, 1)  # lost new, left gone
    sankey = _figure(response, "sankey-figure")["data"][0]
    assert sum(sankey["link"]["value"]) == 5  # customers scored in both runs
    assert "1 new, 1 no longer scored" in text

    # The measure switches; the filters stay.
    stages = client.get(
        MIGRATION, {"measure": "abc_class", "customer_type": "business"}, HTTP_HX_REQUEST="true"
    )
    matrix = stages.context["matrix"]
    assert matrix.measure == "abc_class"
    assert sum(cell.customers for cell in matrix.cells.values()) == 2
    assert '<input type="hidden" name="customer_type" value="business">' in stages.content.decode()

    assert client.get(MIGRATION, {"measure": "colour"}).status_code == 400
    # Without JS the panel is a page of its own.
    page = client.get(MIGRATION)
    assert page.status_code == 200 and "<html" in page.content.decode()


def test_a_segment_filter_counts_who_left_the_segment(client, staff, book):
    client.force_login(staff["ada"])
    response = client.get(MIGRATION, {"segment": "consumer/C"}, HTTP_HX_REQUEST="true")
    matrix = response.context["matrix"]
    # gone is in consumer/C in both runs; "left" was in consumer/C and is scored no more.
    assert sum(c.customers for c in matrix.cells.values()) == 1
    assert (matrix.entered, matrix.left) == (0, 1)


def test_with_one_run_the_migration_panel_waits_for_a_second(client, staff, book):
    book["earlier"].delete()
    client.force_login(staff["ada"])
    text = client.get(DASHBOARD).content.decode()
    assert "Migration needs two successful scoring runs" in text
    partial = client.get(MIGRATION, HTTP_HX_REQUEST="true")
    assert "Migration needs two successful scoring runs" in partial.content.decode()


# -- cost ------------------------------------------------------------------------------------


def _queries(client, url, params=None, **headers) -> int:
    from django.db import connection

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {}, **headers)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", ["ada", "sam", "mo"])
def test_the_number_of_queries_does_not_grow_with_the_customers(
    client, staff, book, name, django_assert_max_num_queries
):
    client.force_login(staff[name])
    owner = str(staff["sam"].pk)
    small = [
        _queries(client, DASHBOARD),
        _queries(client, DASHBOARD, {"customer_type": "business", "owner": owner}),
        _queries(client, MIGRATION, {"measure": "lifecycle_stage"}, HTTP_HX_REQUEST="true"),
        _queries(client, AT_RISK, {"page": 2}, HTTP_HX_REQUEST="true"),
    ]
    more = customers_bulk(60, owner=staff["sam"])
    for i, customer in enumerate(more):
        measures = dict(abc_class="AB"[i % 2], lifecycle_stage="decline", profit_cents=i * 100)
        _score(book["latest"], customer, actual=LEVELS[i % 5], **measures)
        _score(book["earlier"], customer, actual=LEVELS[(i + 1) % 5], **measures)
    large = [
        _queries(client, DASHBOARD),
        _queries(client, DASHBOARD, {"customer_type": "business", "owner": owner}),
        _queries(client, MIGRATION, {"measure": "lifecycle_stage"}, HTTP_HX_REQUEST="true"),
        _queries(client, AT_RISK, {"page": 2}, HTTP_HX_REQUEST="true"),
    ]
    assert small == large
    # A sales user's aggregates may be "everything minus the hidden customers": two counts to
    # choose, then one more query per aggregate.
    with django_assert_max_num_queries(17):
        client.get(DASHBOARD)


def test_the_latest_run_is_the_dashboards(book):
    assert latest_run() == book["latest"]
    assert set(
        CustomerScore.objects.filter(run=book["latest"])
        .filter(Q(abc_class="A") | Q(abc_class="B"))
        .values_list("customer__name", flat=True)
    ) == {"Big Buyer", "Sick Supplier", "Lost Lamb", "Inner Unit"}


def test_after_a_real_scoring_run_the_page_shows_what_the_run_stored(client, staff):
    from guanxi.scoring.services import scoring_run_execute
    from tests.scoring.test_services import AS_OF
    from tests.scoring.test_services import _store as store

    store(n_customers=150)
    run = scoring_run_execute(as_of=AS_OF, run_playbooks=False)
    scores = CustomerScore.objects.filter(run=run)
    response = _get(client, staff["ann"])
    assert response.status_code == 200
    assert _kpi(response, "Customers") == str(scores.count()) == "150"
    at_risk = scores.filter(AT_RISK_Q).count()
    assert _kpi(response, "High-value customers at risk") == f"{at_risk:,}"
    funnel = _figure(response, "funnel-figure")["data"][0]
    expected = dict(scores.values_list("lifecycle_stage").annotate(n=Count("id")))
    assert {stage: n for stage, n in zip(funnel["y"], funnel["x"], strict=True) if n} == expected
    points = _figure(response, "pareto-figure")["data"][1]
    assert points["x"][-1] == pytest.approx(1.0) and points["y"][-1] == pytest.approx(1.0)
    histogram = _figure(response, "histogram-figure")["data"][0]
    assert sum(histogram["y"]) == scores.filter(clv_cents__isnull=False).count()


def test_everything_minus_the_hidden_customers_equals_the_visible_ones(staff, book):
    """A sales user's aggregates are computed as the whole base minus the customers they may not
    see (fewer rows to read); every panel must equal the sums over the visible customers."""
    from guanxi.hierarchy.selectors import dashboard_scope, migration_matrix
    from guanxi.parties.selectors import customers_visible

    sam = staff["sam"]
    complement = dashboard_scope(user=sam)
    assert complement.minus is not None  # sam sees 5 of the 7 customers: the cheaper form
    direct = DashboardScope(customers=customers_visible(user=sam))
    run = latest_run()

    def summary(scope):
        s = standing_summary(run, scope=scope)
        return s.customers, s.profit_cents, s.clv_cents, s.gap_matrix(), s.at_risk()

    assert summary(complement) == summary(direct)
    assert summary(complement)[0] == 4  # big, new, gone, lost (left is not in the latest run)
    top = standing_summary(run, scope=direct).max_profit_cents
    assert pareto_curve(run, scope=complement, top_profit_cents=top) == pareto_curve(
        run, scope=direct, top_profit_cents=top
    )
    top_clv = standing_summary(run, scope=direct).max_clv_cents
    assert clv_histogram(run, scope=complement, top_clv_cents=top_clv) == clv_histogram(
        run, scope=direct, top_clv_cents=top_clv
    )
    earlier = book["earlier"]
    for measure in ("actual_level", "lifecycle_stage", "abc_class"):
        a = migration_matrix(from_run=earlier, to_run=run, measure=measure, scope=complement)
        b = migration_matrix(from_run=earlier, to_run=run, measure=measure, scope=direct)
        assert (a.cells, a.entered, a.left) == (b.cells, b.entered, b.left)
