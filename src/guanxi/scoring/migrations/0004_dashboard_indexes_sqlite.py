"""Covering indexes for the dashboard's aggregates — on SQLite only.

SQLite groups by sorting and reads whole rows: on 100,000 customers one grouped query over the
score table took 200 ms, so the dashboard took more than a second. With these indexes it reads
narrow entries already in order — ``score_dash_standing`` leads with the dimensions of
``hierarchy.selectors.standing_summary``; ``score_dash_profit`` and ``score_dash_clv`` lead with
the columns the Pareto curve and the CLV histogram count ranges of, and give the at-risk list
its order, so a page stops after its rows — and each aggregate takes tens of milliseconds.

PostgreSQL hash-aggregates and scans in parallel, so there a run's million-row ``COPY`` is not
made to maintain three more indexes (docs/decisions/0001-score-tables.md). The indexes are not
in the model's state, so ``makemigrations`` does not see them.
"""

from django.db import migrations

INDEXES = {
    "score_dash_standing": (
        "run_id, actual_level, recommended_level, level_gap, lifecycle_stage, abc_class, "
        "segment, foundation_health, health_alert, profit_cents, clv_cents, customer_id"
    ),
    "score_dash_profit": "run_id, profit_cents, customer_id, segment",
    "score_dash_clv": "run_id, clv_cents, customer_id, segment",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON scoring_customerscore ({columns})"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0003_score_tables_without_foreign_keys")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
