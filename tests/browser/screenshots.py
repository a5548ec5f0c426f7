"""`make screenshots`: PNGs of the main pages at phone and desktop width.

python -m tests.browser.screenshots DIR serves the demo organisation from a
temporary SQLite database and writes NAME-375.png and NAME-1280.png into DIR,
and for the pages in screens.DARK NAME-dark-375.png and NAME-dark-1280.png too,
with the system's colour scheme set to dark.

python -m tests.browser.screenshots DIR --language de takes the same pages with
the browser asking for German (light theme only): docs/screenshots/de/.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from reviews import create_app
from reviews.demo import load_demo_cycles, load_demo_org
from reviews.extensions import db
from reviews.framework.operations import ensure_default_framework

from .conftest import CHROMIUM, LAUNCH_ARGS
from .screens import DARK, WIDTHS, screens


def main(out: Path, language: str | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "REVIEWS_ENV": "testing",
                "SECRET_KEY": "screenshots",
                "INSTANCE_PATH": tmp,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.db",
                "JOBS_INLINE": True,
            }
        )
        with app.app_context():
            db.create_all()
            ensure_default_framework()
            load_demo_org()
            with app.test_request_context():
                load_demo_cycles()
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                for name, page in screens(browser, base, language):
                    dark = name in DARK and not language
                    for scheme in ("light", "dark") if dark else ("light",):
                        page.emulate_media(color_scheme=scheme)
                        prefix = f"{name}-dark" if scheme == "dark" else name
                        for width in WIDTHS:
                            page.set_viewport_size({"width": width, "height": 900})
                            target = out / f"{prefix}-{width}.png"
                            page.screenshot(path=str(target), full_page=True)
                            print(target)
                    page.emulate_media(color_scheme="light")
                browser.close()
        finally:
            server.shutdown()
            thread.join(5)
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    chosen = None
    if "--language" in arguments:
        at = arguments.index("--language")
        chosen = arguments[at + 1]
        del arguments[at : at + 2]
    main(Path(arguments[0] if arguments else "docs/screenshots"), chosen)
