"""What every REST API endpoint shares beyond ``api_base``: the error shape, the schema
conventions, and the endpoints for a user's own API tokens.

Each app's ``api.py`` holds its serializers and viewsets and lists them in ``routes``;
``guanxi.api_urls`` mounts them all under ``/api/v1/``. Record-level rules are never re-implemented
here: viewsets start their querysets from the selectors (``customers_visible`` and friends).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from guanxi.core.api_base import ALL_ROLES, TokenAuthentication
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import ApiToken, TokenScope
from guanxi.core.requests import client_ip
from guanxi.core.selectors import api_tokens_of
from guanxi.core.services import api_token_create, api_token_revoke


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gx_<prefix>_<secret>",
            "description": "A personal API token (see docs/security.md).",
        }


# -- errors ------------------------------------------------------------------------------------

_STATUS_BY_CODE = {
    ErrorCode.INVALID: status.HTTP_400_BAD_REQUEST,
    ErrorCode.INVALID_TRANSITION: status.HTTP_409_CONFLICT,
    ErrorCode.CONFLICT: status.HTTP_409_CONFLICT,
    ErrorCode.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    ErrorCode.NOT_ALLOWED: status.HTTP_403_FORBIDDEN,
}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"lines.0.quantity": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            if detail:
                out[prefix or "non_field_errors"] = [str(v) for v in detail]
        else:
            for i, value in enumerate(detail):
                out.update(_flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error as ``{"error": {"code", "message", "fields"?}}`` with a stable ``code``."""
    if isinstance(exc, GuanxiError):
        set_rollback()
        fields = {exc.field: [exc.message]} if exc.field else None
        return Response(
            error_body(str(exc.code), exc.message, fields),
            status=_STATUS_BY_CODE.get(exc.code, status.HTTP_400_BAD_REQUEST),
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, IntegrityError):
        set_rollback()
        return Response(
            error_body(
                ErrorCode.CONFLICT,
                _("The change conflicts with data already stored (a duplicate external id?)."),
            ),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found, or not visible to you."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        only = list(fields)
        message = (
            fields[only[0]][0]
            if len(only) == 1 and only[0] == "non_field_errors"
            else _("Some fields are not valid; see fields.")
        )
        response.data = error_body(ErrorCode.INVALID, message, fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        response.data = error_body(str(code), str(detail))
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["error"]["retry_after"] = int(exc.wait) + 1
    return response


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. invalid, not_found.")
    message = serializers.CharField(help_text="What went wrong and how to fix it, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Per field (dotted path for nested ones), what is wrong with it.",
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="Seconds to wait (rate limit only)."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# -- schema ------------------------------------------------------------------------------------

_ERRORS_ALWAYS = {
    "400": "The request is not valid (see error.fields).",
    "401": "No or an unusable API token.",
    "403": "Your role, the record rules or the token's scope do not allow this.",
    "404": "Not found, or not visible to you.",
    "406": "The Accept header asks for a format the API does not speak.",
    "429": "Too many requests for this token; see error.retry_after.",
}
_ERRORS_WRITE = {
    "405": "The method is not allowed here.",
    "409": "The change conflicts with the stored state.",
    "415": "Send JSON.",
}


class GuanxiAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error responses every operation can give."""

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        errors = dict(_ERRORS_ALWAYS)
        if self.method not in SAFE_METHODS:
            errors.update(_ERRORS_WRITE)
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code
                )
        return responses


# -- API tokens --------------------------------------------------------------------------------


class ApiTokenSerializer(serializers.ModelSerializer):
    usable = serializers.SerializerMethodField(help_text="Not revoked and not expired.")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scope",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "usable",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_usable(self, obj: ApiToken) -> bool:
        return obj.usable()


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        read_only=True, help_text="The key: shown this once, Guanxi keeps only its hash."
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


class SessionOnly(BasePermission):
    """Creating a token needs a signed-in person, not another token (a leaked token must not be
    able to mint more)."""

    message = gettext_lazy("Create API tokens from a signed-in session, not with a token.")
    code = "session_required"

    def has_permission(self, request: Request, view: Any) -> bool:
        return not isinstance(request.auth, ApiToken)


@extend_schema_view(
    list=extend_schema(summary="Your API tokens"),
    create=extend_schema(
        summary="Create an API token (from a signed-in session)",
        responses={201: ApiTokenCreatedSerializer},
    ),
    retrieve=extend_schema(summary="One of your API tokens"),
    destroy=extend_schema(summary="Revoke one of your API tokens"),
)
class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your own API tokens: every role may hold them; each acts with its owner's roles."""

    serializer_class = ApiTokenSerializer
    write_roles = ALL_ROLES
    queryset = ApiToken.objects.none()

    def get_permissions(self) -> list[BasePermission]:
        permissions = super().get_permissions()
        if self.action == "create":
            permissions.append(SessionOnly())
        return permissions

    def get_queryset(self):
        return api_tokens_of(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = api_token_create(
            user=request.user,
            name=serializer.validated_data["name"],
            scope=serializer.validated_data.get("scope", TokenScope.READ),
            expires_at=serializer.validated_data.get("expires_at"),
            ip_address=client_ip(request),
        )
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(
            token=instance, actor=self.request.user, ip_address=client_ip(self.request)
        )


routes = [("tokens", ApiTokenViewSet, "api-token")]


# -- errors outside DRF's views ----------------------------------------------------------------
# A URL under /api/ that no endpoint matches (or a crash) is answered in the API's error shape, so
# clients never have to parse an HTML page.


def _is_api(request: Any) -> bool:
    return request.path.startswith("/api/")


def not_found(request: Any, exception: Exception | None = None) -> Any:
    if _is_api(request):
        return JsonResponse(
            error_body(ErrorCode.NOT_FOUND, _("No such endpoint or record.")), status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request: Any) -> Any:
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on the server; it is logged.")),
            status=500,
        )
    return defaults.server_error(request)


def bad_request(request: Any, exception: Exception | None = None) -> Any:
    if _is_api(request):
        return JsonResponse(error_body(ErrorCode.INVALID, _("Bad request.")), status=400)
    return defaults.bad_request(request, exception)
