"""Settings for The Eye, driven by environment variables.

Every variable is listed with its default and meaning in `.env.example`. The defaults work on a
fresh machine with nothing but Python: SQLite in `var/`, an embedded Valkey server that
`manage.py up` starts when `REDIS_URL` is unset, and the GeoLite2 database shipped on PyPI.
Production swaps each by one variable (`DATABASE_URL`, `REDIS_URL`, `GEOIP_PATH`).
"""

from pathlib import Path

import environ

from the_eye.lib import embedded_redis, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Unset: a random key made once for this checkout and kept in var/secret-key (sessions survive
# restarts of the demo). A key that is public (the one earlier versions and docs showed) or too
# weak to sign sessions stops the start when DEBUG is off.
SECRET_KEY = env.str("SECRET_KEY", default="") or secret_key.local_key(VAR_DIR)
if not DEBUG:
    secret_key.refuse_weak(SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS (README "Production settings"; all off by default so plain-http demos work) -------
# Behind a TLS-terminating proxy, name the header it sets: "HTTP_X_FORWARDED_PROTO,https".
_proxy_ssl_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Container and load-balancer checks call /health/ over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "the_eye",
    "events",
    "rollups",
    "dashboard",
    "progress",
    "privacy",
    "xapi",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Before sessions and auth: a NUL in a cookie, header or filter never reaches the database.
    "the_eye.guards.RequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "the_eye.urls"
WSGI_APPLICATION = "the_eye.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.dashboards",
            ],
        },
    },
]

# --- Storage -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'the_eye.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the busy timeout makes a writer wait
    # for the other instead of failing at once with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Queue ---------------------------------------------------------------------------------
# Unset REDIS_URL means "the embedded Valkey server": `manage.py up` starts it and records its
# URL in var/, so every process of this checkout (web, worker, commands) finds the same server.
REDIS_URL = env.str("REDIS_URL", default="") or embedded_redis.recorded_url(VAR_DIR)
# Time-outs make an unreachable Redis fail fast, so ingest can fall back to storing directly.
_REDIS_OPTIONS = "socket_connect_timeout=2&socket_timeout=5"
_QUEUE_URL = REDIS_URL + ("&" if "?" in REDIS_URL else "?") + _REDIS_OPTIONS
RQ_QUEUES = {
    "events": {"URL": _QUEUE_URL, "DEFAULT_TIMEOUT": 300},
    "default": {"URL": _QUEUE_URL, "DEFAULT_TIMEOUT": 300},
}
RQ = {"COMMIT_MODE": "auto"}
# The shared cache (throttling counters, the copy of sites that lets the collector accept events
# while the database is down) lives in the same Redis as the queue.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _QUEUE_URL,
        "KEY_PREFIX": "the_eye",
    }
}

# --- Events --------------------------------------------------------------------------------
EVENTS_MAX_BATCH = env.int("EVENTS_MAX_BATCH", default=1000)
EVENTS_MAX_BODY_BYTES = env.int("EVENTS_MAX_BODY_BYTES", default=1024 * 1024)
EVENTS_MAX_DATA_BYTES = env.int("EVENTS_MAX_DATA_BYTES", default=16 * 1024)
EVENTS_BULK_SIZE = env.int("EVENTS_BULK_SIZE", default=1000)
EVENTS_MAX_FUTURE_SECONDS = env.int("EVENTS_MAX_FUTURE_SECONDS", default=300)
EVENTS_JOB_RETRY_INTERVALS = env.list("EVENTS_JOB_RETRY_INTERVALS", cast=int, default=[5, 30, 120, 600, 1800])
# Raw events older than this many days are deleted nightly (rollups are kept); 0 keeps them all.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=0)
# Enrichment (events/enrichment.py). Empty GEOIP_PATH: the GeoLite2 City file shipped on PyPI.
GEOIP_PATH = env.str("GEOIP_PATH", default="")
SESSION_INACTIVITY_MINUTES = env.int("SESSION_INACTIVITY_MINUTES", default=30)
RETURNING_VISITOR_DAYS = env.int("RETURNING_VISITOR_DAYS", default=183)
# Django refuses larger bodies before our view sees them; keep its limit above ours so the
# ingest view can answer 413 with a JSON body itself.
DATA_UPLOAD_MAX_MEMORY_SIZE = EVENTS_MAX_BODY_BYTES * 4

# --- Learner progress (progress/) -----------------------------------------------------------
# How often the watch page reports while playing (it also reports on pause, seek and leaving).
PROGRESS_HEARTBEAT_SECONDS = env.int("PROGRESS_HEARTBEAT_SECONDS", default=60)
# Percent of a video's seconds a learner must watch to complete it; a course may set its own.
PROGRESS_COMPLETION_THRESHOLD = env.int("PROGRESS_COMPLETION_THRESHOLD", default=80)
if not 1 <= PROGRESS_COMPLETION_THRESHOLD <= 100:
    raise ValueError("PROGRESS_COMPLETION_THRESHOLD must be a percent between 1 and 100")
# Completing a tutorial in one language counts for all its languages; the resume point follows.
PROGRESS_CREDIT_ACROSS_LANGUAGES = env.bool("PROGRESS_CREDIT_ACROSS_LANGUAGES", default=False)
# Most seconds of playback one heartbeat may claim (a minute at up to 4x speed, plus slack).
PROGRESS_MAX_SECONDS_PER_HEARTBEAT = env.int("PROGRESS_MAX_SECONDS_PER_HEARTBEAT", default=300)

# --- HTTP API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "the_eye.throttles.ThrottledBasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    # JSON only: the API takes no forms, and the schema says so.
    "DEFAULT_PARSER_CLASSES": ["the_eye.api_input.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "the_eye.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "The Eye API",
    "DESCRIPTION": "Collects visitor and learner events; serves them and their statistics to staff.",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "the_eye.schema.describe_batches",
        "the_eye.schema.describe_rate_limits",
    ],
}
# Rate limits (the_eye/throttles.py): 429 with Retry-After. "N/s|min|hour|day"; empty: no limit.
# Generous defaults: a tracker sends a request per page or so; the middleware batches of 100.
THROTTLE_COLLECT_PER_ADDRESS = env.str("THROTTLE_COLLECT_PER_ADDRESS", default="6000/min")
THROTTLE_COLLECT_PER_SITE = env.str("THROTTLE_COLLECT_PER_SITE", default="60000/min")
THROTTLE_AUTH_FAILURES = env.str("THROTTLE_AUTH_FAILURES", default="20/min")
# CORS is answered per site (its allowed origins) by events.cors; no credentials are ever allowed.
CORS_ALLOW_CREDENTIALS = False
CORS_URLS_REGEX = r"^/api/(events/|logs/|event)$"  # event: Plausible's Events API
# Browsers only send events here: POST, JSON or text/plain, the site named by X-Site-Id or a field.
CORS_ALLOW_METHODS = ("POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("content-type", "x-site-id")

# --- Auth, i18n, static --------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
# Which plotly.js the dashboards load: "partial" (default) serves the partial bundles committed
# under static/vendor/plotly/ (only the trace types charts.py draws); "full" serves the plotly
# package's own 4.8 MB plotly.min.js (to draw other trace types, or to measure the difference).
PLOTLY_BUNDLE = env.str("PLOTLY_BUNDLE", default="partial")
if PLOTLY_BUNDLE not in ("partial", "full"):
    raise ValueError("PLOTLY_BUNDLE must be partial or full")
if PLOTLY_BUNDLE == "full":
    STATICFILES_FINDERS.append("dashboard.staticfiles.PlotlyFinder")
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request while it is missing
# collectstatic (run by `manage.py up`, bin/test and the Dockerfile) writes content-hashed names
# plus gzip copies; whitenoise serves those with a one-year immutable cache (see the_eye/storage.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "the_eye.storage.StaticStorage"},
}
# Before collectstatic has run (development), pages fall back to the plain names, which whitenoise
# serves straight from the finders with a short cache.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Number of reverse proxies in front of the site; 0 trusts REMOTE_ADDR only.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Error reporting ---------------------------------------------------------------------------
# Set SENTRY_DSN to send errors of the web server and the workers to Sentry (PyPI sentry-sdk).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), RqIntegration()],
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,  # visitors' addresses and learners' names stay here
    )
