__version__ = "0.1.0"

# Celery's shared tasks bind to this app once Django starts.
from dashboard.celery import app as celery_app

__all__ = ["__version__", "celery_app"]
