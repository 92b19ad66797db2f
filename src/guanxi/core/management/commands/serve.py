"""``guanxi serve``: the web server and a background worker together, for one machine.

Scoring runs and imports started from the pages are tasks; without a worker they would wait
forever. Production runs the two as separate services (docs/operations.md); this command is
for the demo and for a small single-machine install.
"""

import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server and a background worker (all task queues) in one command."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-worker", action="store_true", help="only the web server (a worker runs elsewhere)"
        )

    def handle(self, *args, addrport: str, no_worker: bool, **options) -> None:
        worker = None
        # The autoreloader re-runs this command in a child process with RUN_MAIN set; only the
        # parent starts the worker, so a code change does not leave a second one behind.
        if not no_worker and os.environ.get("RUN_MAIN") != "true":
            worker = subprocess.Popen(
                [sys.executable, "-m", "guanxi", "db_worker", "--queue-name", "*", "--no-reload"]
            )
            self.stdout.write(f"background worker started (pid {worker.pid})")
        try:
            call_command("runserver", addrport)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
