"""Django settings; values from the environment come only through settings.env."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

from smarketing.settings import env as _env

ENV = _env.load()
BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = ENV.data_dir

SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
ALLOWED_HOSTS = ENV.allowed_hosts + ["testserver"]

INSTALLED_APPS = [
    # The admin without its autodiscovery at set-up: urls.py loads the apps' admin modules (and the services they
    # import) when the URL conf loads, so a CLI command never pays for them.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # django-ninja's Swagger UI files, served by the product so /api/docs works offline (ninja loads later)
    "smarketing.core.ninja_assets.NinjaAssetsConfig",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "smarketing.core",
    "smarketing.team",
    "smarketing.playbook",
    "smarketing.crm",
    "smarketing.lifecycle",
    "smarketing.scoring",
    "smarketing.campaigns",
    "smarketing.feedback",
    "smarketing.analytics",
    "smarketing.ingest",
    "smarketing.demo",
    "smarketing.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Around the CSRF and common middleware, so every answer under /api/ is JSON (404, 405, 413, 500 too).
    "smarketing.core.middleware.ApiJsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After static files (served at once): a request waits while the login page's preload thread imports.
    "smarketing.web.middleware.PreloadedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# Production behind HTTPS (SMARKETING_HTTPS=true): redirect to https, HSTS, cookies only over https.
# Off by default so the local demo works over plain http on 127.0.0.1.
SECURE_SSL_REDIRECT = ENV.https
SESSION_COOKIE_SECURE = ENV.https
CSRF_COOKIE_SECURE = ENV.https
CSRF_FAILURE_VIEW = "smarketing.web.views.errors.csrf_failure"  # refused in the layout, saying what to do
SECURE_HSTS_SECONDS = ENV.hsts_seconds
SECURE_HSTS_INCLUDE_SUBDOMAINS = ENV.hsts_seconds > 0
SECURE_HSTS_PRELOAD = ENV.hsts_preload
if ENV.trust_forwarded_proto:
    # Only behind a proxy that sets this header itself (and strips it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# The pages load only their own static files: no inline scripts. Inline style attributes remain (charts, a few
# templates), which is why style-src allows them; scripts do not get that allowance.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "smarketing.urls"
WSGI_APPLICATION = "smarketing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(ENV.database_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server read while the worker or a seed writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }

AUTH_USER_MODEL = "team.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": ENV.password_min_length}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username + address before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = ENV.login_failure_limit
AXES_COOLOFF_TIME = timedelta(minutes=ENV.login_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client address: the socket's, unless a trusted proxy in front sets X-Forwarded-For (then its last hop).
AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if ENV.trust_forwarded_proto else (
    "REMOTE_ADDR",)
if ENV.trust_forwarded_proto:
    AXES_IPWARE_PROXY_COUNT = 1
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Why: WhiteNoise serves from the finders, but warns at start-up when the root folder is missing.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "sla", "scoring", "themes"],
    }
}

SMARKETING = {
    "ANALYTICS_ENGINE": ENV.analytics_engine,
    "THEME_BACKEND": ENV.theme_backend,
    "EMBEDDING_MODEL": ENV.embedding_model,
    "WEBHOOK_SECRET": ENV.webhook_secret,
    "SPARK_MASTER": ENV.spark_master,
    "LAKE_URL": ENV.lake_url,
    "ANALYTICS_STORE": ENV.analytics_store,
}

# Outgoing webhooks refuse private, loopback and link-local targets except these (host names, IPs, CIDR networks).
SMARKETING_WEBHOOK_ALLOW = ENV.webhook_allow
# Pages compute a figure inside the request for a CRM up to this many contacts; above it the worker computes it.
SMARKETING_FIGURES_INLINE_CONTACTS = ENV.figures_inline_contacts
# After a catch-up of the history store, the worker computes again the figures viewed in the last 15 minutes (at
# most 24, the latest viewed first), at most once per this many seconds (SMARKETING_FIGURES_REFRESH_SECONDS; 0: off).
# Why 30: a lone write is refreshed right after its catch-up; a CRM written to all day costs the workers one round
# of those figures per half minute, while its pages show numbers at most about that old.
SMARKETING_FIGURES_REFRESH_SECONDS = ENV.figures_refresh_seconds
# A task RUNNING for longer (or whose worker died on this host) is requeued; failed after this many runs.
SMARKETING_TASK_STALE_MINUTES = ENV.task_stale_minutes
SMARKETING_TASK_MAX_ATTEMPTS = ENV.task_max_attempts
# Notification emails: SMARKETING_SMTP_HOST/PORT/USER/PASSWORD/FROM/TLS, or None (no email).
SMARKETING_SMTP = ENV.smtp

# API rate limits: requests per token (a 429 with code `throttled` beyond it), and bad tokens from one address
# before every request from it gets 429 until the cool-off has passed (as django-axes does for logins).
SMARKETING_API_RATE = ENV.api_rate
SMARKETING_API_BAD_TOKEN_LIMIT = ENV.login_failure_limit
SMARKETING_API_BAD_TOKEN_COOLOFF_SECONDS = ENV.login_cooloff_minutes * 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    # `smarketing serve --access-log` (the default): a line per request (core/access_log.py).
    "loggers": {"smarketing.access": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
