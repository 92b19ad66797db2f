"""Extended statistics for the dashboard's grouped query — on PostgreSQL only.

``hierarchy.selectors.standing_summary`` groups a run's scores by eight measures. PostgreSQL
multiplies the columns' distinct counts and expected ~40,000 groups on the 100,000-customer
demo where there are 500, so it sorted every row on disk (0.7 s) instead of hash-aggregating
them (0.2 s). ``ndistinct`` statistics on the eight columns give it the true number. They cost
nothing when scores are written: ANALYZE (autovacuum) computes them from its sample.
"""

from django.db import migrations

COLUMNS = (
    "actual_level, recommended_level, level_gap, lifecycle_stage, abc_class, segment, "
    "foundation_health, health_alert"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE STATISTICS IF NOT EXISTS score_dash_standing_stats (ndistinct) "
        f"ON {COLUMNS} FROM scoring_customerscore"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP STATISTICS IF EXISTS score_dash_standing_stats")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0004_dashboard_indexes_sqlite")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
