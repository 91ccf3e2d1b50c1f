import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
application = get_wsgi_application()

from smarketing.core.startup import require_production_secrets  # noqa: E402  (needs the settings loaded)

# A WSGI server (gunicorn, waitress…) is production: refuse the generated local secrets with debug off.
require_production_secrets()
