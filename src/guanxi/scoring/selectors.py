from guanxi.scoring.choices import RunStatus
from guanxi.scoring.models import ScoringRun


def scoring_run_latest() -> ScoringRun | None:
    """The newest run that succeeded; the hierarchy and the pages read this one."""
    return (
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-started_at", "-id").first()
    )
