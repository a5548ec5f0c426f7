"""The cycle pages, by seam: HR's cycle pages (`cycles`), a review and its PDF
(`review`), writing a part (`parts`), and peers: nominations, the inbox and
declining (`nominations`). All register on the one `cycles` blueprint.

Each view parses (`cycles.inputs`, `cycles.parts`), authorises (`access`), calls
an operation and renders what `cycles.reading` returns; the request's edge
commits or rolls back (`reviews.web`).
"""

from flask import Blueprint

bp = Blueprint("cycles", __name__)

from reviews.cycles.views import cycles, history, nominations, parts, review  # noqa: E402, F401
