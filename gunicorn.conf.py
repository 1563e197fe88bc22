"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py -w 2 --threads 4
dashboard.wsgi:server` (gunicorn also reads this file by itself when started from this folder).

The worker answers GET /healthz from its event loop, ahead of requests waiting for a busy thread
(dashboard.web.worker), so a load balancer's check stays fast while PDFs print and users wait."""

worker_class = "dashboard.web.worker.HealthFirstWorker"
