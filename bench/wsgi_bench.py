"""The app as gunicorn serves it, plus one bare route for the benchmark's baseline.

`/bench/one-query` does one indexed query (a person by their unique email) and
answers a few bytes: the ceiling for a route of this app under the same server.
"""

from __future__ import annotations

import gc

from flask import jsonify
from sqlalchemy import select

from reviews import access, create_app
from reviews.extensions import db
from reviews.people.models import Person

app = create_app()
gc.freeze()  # as wsgi.py does for the app gunicorn serves


@app.get("/bench/one-query")
@access.public
def one_query():  # type: ignore[no-untyped-def]
    person_id = db.session.scalar(select(Person.id).where(Person.email == "dev@example.com"))
    return jsonify(id=person_id)
