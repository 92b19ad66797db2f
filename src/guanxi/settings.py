"""Django settings for Guanxi, read from the environment.

Every knob is a ``GUANXI_*`` variable with an embedded default (SQLite in WAL mode under ``var/``),
so ``guanxi migrate && guanxi runserver`` works on a fresh checkout. ``GUANXI_MODE=production``
turns on the production checks and refuses to start with the development secret key.
"""

import datetime as dt
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

PACKAGE_DIR = Path(__file__).resolve().parent
# The repository root in a checkout; override with GUANXI_HOME for an installed package.
BASE_DIR = Path(os.environ.get("GUANXI_HOME", PACKAGE_DIR.parents[1]))
VAR_DIR = Path(os.environ.get("GUANXI_VAR_DIR", BASE_DIR / "var"))

_DEV_SECRET_KEY = "guanxi-development-secret-key-do-not-use-in-production"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use 1/0, true/false, yes/no.")


def _env_positive_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    raise ImproperlyConfigured(f"{name}={value!r} is not a positive whole number.")


MODE = os.environ.get("GUANXI_MODE", "development")
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"GUANXI_MODE={MODE!r} is not known; use 'development' (default) or 'production'."
    )
PRODUCTION = MODE == "production"

SECRET_KEY = os.environ.get("GUANXI_SECRET_KEY", _DEV_SECRET_KEY)
if PRODUCTION and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "GUANXI_MODE=production needs GUANXI_SECRET_KEY set to a random value of at least "
        "32 characters (for example: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

DEBUG = _env_bool("GUANXI_DEBUG", not PRODUCTION)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "GUANXI_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("GUANXI_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "guanxi.core",
    "guanxi.parties",
    "guanxi.sales",
    "guanxi.engagement",
    "guanxi.imports",
    "guanxi.hierarchy",
    "guanxi.assessments",
    "guanxi.playbooks",
    "guanxi.scoring",
    "django_tasks_db",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served locally, no CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"
ASGI_APPLICATION = "guanxi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.core.context_processors.guanxi",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'guanxi.sqlite3'}"
DATABASE_URL = os.environ.get("GUANXI_DATABASE_URL", _default_db)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers (the web pages) work while an import or scoring run writes.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers wait instead of failing
        # with "database is locked" half-way through a transaction.
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("GUANXI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# ISO 4217 code of the currency all money amounts (integer cents) are in.
CURRENCY = os.environ.get("GUANXI_CURRENCY", "CNY").upper()
if len(CURRENCY) != 3 or not CURRENCY.isalpha():
    raise ImproperlyConfigured(f"GUANXI_CURRENCY={CURRENCY!r} is not an ISO 4217 code like CNY.")

# Background work: Django's Tasks framework with the database-backed worker of django-tasks-db
# (`guanxi db_worker`, docs/operations.md). Scoring runs have their own queue, so a worker can be
# dedicated to them and two runs never compete for one worker's memory.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "scoring"],
    }
}


def _env_time_of_day(name: str, default: str) -> dt.time:
    value = os.environ.get(name) or default
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value.strip())
    if match:
        return dt.time(int(match[1]), int(match[2]))
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a time of day; use HH:MM on a 24-hour clock, e.g. 02:00."
    )


# When the nightly scoring run starts, local time in TIME_ZONE (guanxi.scoring.tasks).
NIGHTLY_AT = _env_time_of_day("GUANXI_NIGHTLY_AT", "02:00")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Files uploaded on the Imports page wait here for their check and import (personal data: never
# served); the worker that runs the import must see the same directory.
IMPORT_UPLOAD_DIR = Path(os.environ.get("GUANXI_IMPORT_UPLOAD_DIR", VAR_DIR / "uploads"))
IMPORT_UPLOAD_MAX_BYTES = int(os.environ.get("GUANXI_IMPORT_UPLOAD_MAX_MB", "200")) * 1024 * 1024
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "guanxi.core.staticfiles.VendorFinder",  # plotly.js from the plotly wheel
]
# The project's own CSS and page scripts (src/guanxi/static/guanxi/); `guanxi` itself is no app.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"

# -- Signing in and browser protections (docs/security.md) ----------------------------------------
# After this many failed sign-ins for one username within this many minutes, the username is
# refused (even with the right password) until that many minutes after the last failure.
SIGN_IN_LOCKOUT_FAILURES = _env_positive_int("GUANXI_SIGN_IN_LOCKOUT_FAILURES", 5)
SIGN_IN_LOCKOUT_MINUTES = _env_positive_int("GUANXI_SIGN_IN_LOCKOUT_MINUTES", 15)
# Behind a reverse proxy that sets X-Forwarded-For, the client's address is the last one in it
# (guanxi.core.requests.client_ip); otherwise the header is ignored: a client can write anything.
TRUST_X_FORWARDED_FOR = _env_bool("GUANXI_TRUST_X_FORWARDED_FOR", False)

# Content Security Policy (Django's ContentSecurityPolicyMiddleware): scripts only from our own
# static files — no inline scripts or event handlers; pages pass data with json_script.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    # 'unsafe-inline' for styles only: plotly.js adds <style> elements and sets style attributes
    # from script (d3's .attr("style")), and htmx adds a <style> for its request indicator.
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    # Plotly draws some images (and its PNG export) from data: and blob: URLs.
    "img-src": [CSP.SELF, "data:", "blob:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"  # for browsers without CSP frame-ancestors
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: htmx sends the token from the page (hx-headers in base.html).
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("GUANXI_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# -- REST API (guanxi.core.api, docs/api.md) ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so a request without credentials gets 401 with a WWW-Authenticate header.
        "guanxi.core.api_base.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "guanxi.core.api_base.IsAuthenticated",
        "guanxi.core.api_base.TokenScopePermission",
        "guanxi.core.api_base.RolePermission",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["guanxi.core.api_base.TokenRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "guanxi.core.api_base.IdCursorPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "guanxi.core.api.GuanxiAutoSchema",
    "EXCEPTION_HANDLER": "guanxi.core.api.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": False,
}
# Requests per API token: N/second, N/minute, N/hour or N/day.
API_TOKEN_RATE = os.environ.get("GUANXI_API_TOKEN_RATE", "1000/hour")
if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", API_TOKEN_RATE):
    raise ImproperlyConfigured(
        f"GUANXI_API_TOKEN_RATE={API_TOKEN_RATE!r} is not a rate; use e.g. 1000/hour or 20/minute."
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "Guanxi API",
    "DESCRIPTION": (
        "Customers, orders, interactions, cases, tasks and the relationship hierarchy. "
        "Authenticate with a personal token: `Authorization: Bearer gx_…`. Money is in integer "
        'cents of the configured currency. Errors are `{"error": {"code", "message", '
        '"fields"}}`.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name per choice set (the same field name means different sets in different apps).
    "ENUM_NAME_OVERRIDES": {
        "RaterRoleEnum": "guanxi.assessments.choices.RaterRole",
        "DimensionEnum": "guanxi.assessments.choices.Dimension",
        "RoleEnum": "guanxi.core.choices.Role",
        "InteractionChannelEnum": "guanxi.engagement.choices.InteractionChannel",
        "DirectionEnum": "guanxi.engagement.choices.Direction",
        "ServicePhaseEnum": "guanxi.engagement.choices.ServicePhase",
        "PurposeEnum": "guanxi.engagement.choices.Purpose",
        "CaseKindEnum": "guanxi.engagement.choices.CaseKind",
        "SatisfactionEnum": "guanxi.engagement.choices.Satisfaction",
        "SeverityEnum": "guanxi.engagement.choices.Severity",
        "CaseStatusEnum": "guanxi.engagement.choices.CaseStatus",
        "RelationshipLevelEnum": "guanxi.hierarchy.choices.RelationshipLevel",
        "PartnershipStageEnum": "guanxi.hierarchy.choices.PartnershipStage",
        "LevelGapEnum": "guanxi.hierarchy.choices.LevelGap",
        "FoundationHealthEnum": "guanxi.hierarchy.choices.FoundationHealth",
        "SegmentSizeEnum": "guanxi.hierarchy.choices.SegmentSize",
        "MarginBandEnum": "guanxi.hierarchy.choices.MarginBand",
        "BondKindEnum": "guanxi.hierarchy.choices.BondKind",
        "BondInstrumentEnum": "guanxi.hierarchy.choices.BondInstrument",
        "CustomerTypeEnum": "guanxi.parties.choices.CustomerType",
        "TriggerKindEnum": "guanxi.playbooks.choices.TriggerKind",
        "OwnerRuleEnum": "guanxi.playbooks.choices.OwnerRule",
        "TaskStatusEnum": "guanxi.playbooks.choices.TaskStatus",
        "TaskPriorityEnum": "guanxi.playbooks.choices.TaskPriority",
        "OrderChannelEnum": "guanxi.sales.choices.OrderChannel",
        "OrderStatusEnum": "guanxi.sales.choices.OrderStatus",
        "RunStatusEnum": "guanxi.scoring.choices.RunStatus",
        "LifecycleStageEnum": "guanxi.scoring.choices.LifecycleStage",
        "ValueClassEnum": "guanxi.scoring.choices.ValueClass",
        "MeasureEnum": "guanxi.scoring.choices.Measure",
        "TokenScopeEnum": "guanxi.core.models.TokenScope",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GUANXI_LOG_LEVEL", "WARNING")},
}
