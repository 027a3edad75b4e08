import os

from django.core.wsgi import get_wsgi_application

from example import telemetry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")
telemetry.start()  # before the handler loads MIDDLEWARE: the instrumentation adds its own
application = get_wsgi_application()
