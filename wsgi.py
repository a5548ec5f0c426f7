import gc
import sys

from reviews import create_app
from reviews.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Reviews cannot start: {exc}")

# The app's own objects (routes, templates, SQLAlchemy mappers and compiled
# statements: some 165,000) live as long as the process. Frozen, they are left
# out of the garbage collector's full passes, which otherwise scanned them all
# every few large requests: 90-100 ms added to one page view in six at 10,000
# people (see docs/benchmarks.md).
gc.freeze()
