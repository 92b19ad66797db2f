"""The ``guanxi`` command: every Django management command, plus the Django-free analytics CLI.

``guanxi migrate``, ``guanxi demo``, ``guanxi import orders FILE`` … run Django management commands;
``guanxi analytics …`` runs the analytics engine on a file without touching any database.
"""

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "analytics":
        from guanxi.analytics.cli import main as analytics_main

        return analytics_main(argv[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    from django.core.management import execute_from_command_line

    argv[0] = "guanxi"
    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
