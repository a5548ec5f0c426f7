import sys

from reviews import create_app
from reviews.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Reviews cannot start: {exc}")
