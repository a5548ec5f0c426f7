"""gunicorn for the benchmark: 2 sync workers, no access log (the repo's
gunicorn.conf.py is for `make serve`)."""

workers = 2
worker_class = "sync"
accesslog = None
errorlog = "-"
loglevel = "warning"
