"""``guanxi schedule``: make sure the nightly scoring run is scheduled (docs/operations.md)."""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from guanxi.scoring.tasks import QUEUE, nightly_cancel, nightly_ensure, score_customers

WORKER_HINT = f"A worker runs it: guanxi db_worker --queue-name default,{QUEUE}"


class Command(BaseCommand):
    help = (
        "Make sure the nightly scoring run is scheduled at GUANXI_NIGHTLY_AT (idempotent: it "
        "never leaves more than one pending), print when it will run; --cancel removes it, --now "
        "also enqueues a scoring run for the next free worker."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--cancel", action="store_true", help="Remove the pending nightly scoring run."
        )
        action.add_argument(
            "--now",
            action="store_true",
            help="Also enqueue a scoring run to start as soon as a worker is free.",
        )
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            help="With --now: the date to score as of (YYYY-MM-DD); default: the day it runs.",
        )

    def handle(self, *args, cancel=False, now=False, as_of=None, **options):
        if cancel:
            removed = nightly_cancel()
            self.stdout.write(
                f"Removed {removed} pending nightly scoring run{'s' if removed != 1 else ''}."
                if removed
                else "No nightly scoring run was pending."
            )
            return
        if now:
            result = score_customers.enqueue(as_of=as_of.isoformat() if as_of else None)
            self.stdout.write(
                f"Enqueued a scoring run as of {as_of or 'the day it runs'} (task {result.id})."
            )
        schedule = nightly_ensure()
        local = timezone.localtime(schedule.run_after)
        verb = {
            "kept": "is scheduled",
            "scheduled": "scheduled",
            "rescheduled": "rescheduled",
        }[schedule.action]
        self.stdout.write(
            f"Nightly scoring {verb} for {local:%Y-%m-%d %H:%M} {settings.TIME_ZONE} "
            f"(scores as of {schedule.as_of}; task {schedule.task_id})."
        )
        if schedule.run_after < timezone.now():
            self.stdout.write(
                self.style.WARNING("It is overdue: is a worker running? " + WORKER_HINT)
            )
        else:
            self.stdout.write(WORKER_HINT)
