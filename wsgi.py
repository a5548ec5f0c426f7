import gc
import sys

import click

from reviews import create_app
from reviews.config import ConfigError
from reviews.readiness import refuse_to_serve

# Serving: a WSGI server imports this (no click context) or `flask run` does. Other
# flask commands (`db upgrade` above all) load it too, and must work on a database
# that is not yet migrated.
_command = click.get_current_context(silent=True)
_serving = _command is None or _command.command.name == "run"

try:
    app = create_app()
    if _serving:
        refuse_to_serve(app)
except ConfigError as exc:
    print(f"Reviews cannot start: {exc}", file=sys.stderr)
    # 3: gunicorn's "worker failed to boot", on which its master stops instead of
    # starting the worker again (gunicorn.conf.py refuses before forking any).
    sys.exit(3)

# The app's own objects (routes, templates, SQLAlchemy mappers and compiled
# statements: some 165,000) live as long as the process. Frozen, they are left
# out of the garbage collector's full passes, which otherwise scanned them all
# every few large requests: 90-100 ms added to one page view in six at 10,000
# people (see docs/benchmarks.md).
gc.freeze()
