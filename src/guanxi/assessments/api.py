"""REST API of partnership stage assessments, mounted by guanxi.api_urls.

- ``/questionnaires/``: the active questionnaire versions with their items (both languages) and
  score bands; any version by its id (so every assessment's questionnaire can be read).
- ``/assessments/``: the assessments of the customers the caller may see; admin, manager and sales
  record them (the raters: service and analysts read only, as on the pages). A company rater
  answers as themselves; the customer's own answers carry the name of who answered instead.
- ``/relationship-stages/{customer_id}/``: where one relationship stands by the raters' latest
  assessments — each side's score and stage, the perception gap and the dimensions. Every
  customer's stages and gap as of a scoring run are on ``/scores/`` (filterable).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from guanxi.assessments.choices import (
    DEFAULT_QUESTIONNAIRE_CODE,
    SCORE_MAX,
    SCORE_MIN,
    SCORES,
    RaterRole,
)
from guanxi.assessments.models import Assessment, Questionnaire, QuestionnaireItem, ScoreBand
from guanxi.assessments.selectors import (
    active_questionnaire,
    assessments_visible,
    customers_assessable,
    dimension_scores,
    questionnaires_with_content,
    relationship_assessment,
)
from guanxi.assessments.services import assessment_record
from guanxi.assessments.views import RECORDING_ROLES
from guanxi.core.api_base import IdCursorPagination
from guanxi.core.api_fields import IdFilter, IdRelatedField, id_field, username_field
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.hierarchy.choices import PartnershipStage

# The earliest day a relationship is judged as of (the validity window reaches back a year).
EARLIEST_AS_OF = dt.date(1900, 1, 1)

# -- questionnaires ----------------------------------------------------------------------------


class AnchorSerializer(serializers.Serializer):
    score = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)
    en = serializers.CharField(help_text=gettext_lazy("What the score means, in English."))
    zh = serializers.CharField(help_text=gettext_lazy("What the score means, in Chinese."))


class QuestionnaireItemSerializer(serializers.ModelSerializer):
    dimension_label = serializers.CharField(read_only=True)
    anchors = serializers.SerializerMethodField(
        help_text=gettext_lazy("What each score from 1 to 5 means.")
    )

    class Meta:
        model = QuestionnaireItem
        fields = ["id", "position", "dimension", "dimension_label", "text_en", "text_zh", "anchors"]
        read_only_fields = fields

    @extend_schema_field(AnchorSerializer(many=True))
    def get_anchors(self, item: QuestionnaireItem) -> list[dict[str, Any]]:
        return [
            {"score": s, "en": item.anchor(s, "en"), "zh": item.anchor(s, "zh")} for s in SCORES
        ]


class ScoreBandSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScoreBand
        fields = ["stage", "min_score", "max_score"]
        read_only_fields = fields


class QuestionnaireSerializer(serializers.ModelSerializer):
    items = QuestionnaireItemSerializer(many=True, read_only=True)
    bands = ScoreBandSerializer(
        many=True,
        read_only=True,
        help_text=gettext_lazy(
            "Mean item scores from min_score up to (not including) max_score mean the stage; "
            "the highest band includes 5."
        ),
    )

    class Meta:
        model = Questionnaire
        fields = [
            "id",
            "code",
            "version",
            "title_en",
            "title_zh",
            "description_en",
            "description_zh",
            "is_active",
            "created_at",
            "items",
            "bands",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="The active questionnaires, with items and score bands"),
    retrieve=extend_schema(summary="One questionnaire version (active or not)"),
)
class QuestionnaireViewSet(viewsets.ReadOnlyModelViewSet):
    """Questionnaires (content, no customer data): every role reads them."""

    serializer_class = QuestionnaireSerializer
    pagination_class = IdCursorPagination
    filter_backends: list = []
    queryset = Questionnaire.objects.none()

    def get_queryset(self) -> QuerySet:
        questionnaires = questionnaires_with_content()
        if self.action == "list":
            return questionnaires.filter(is_active=True)
        return questionnaires


# -- assessments -------------------------------------------------------------------------------


class AnswerSerializer(serializers.Serializer):
    item = id_field(help_text=gettext_lazy("The questionnaire item's id."))
    position = serializers.IntegerField(read_only=True)
    dimension = serializers.CharField(read_only=True)
    score = serializers.IntegerField(min_value=SCORE_MIN, max_value=SCORE_MAX)


class AssessmentSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    questionnaire_code = serializers.CharField(source="questionnaire.code", read_only=True)
    questionnaire_version = serializers.IntegerField(source="questionnaire.version", read_only=True)
    rater_username = username_field("rater")
    answers = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "customer",
            "customer_external_id",
            "customer_name",
            "questionnaire",
            "questionnaire_code",
            "questionnaire_version",
            "rater_role",
            "rater",
            "rater_username",
            "rater_name",
            "answered_on",
            "mean_score",
            "stage",
            "notes",
            "answers",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, assessment: Assessment) -> list[dict[str, Any]]:
        return [
            {
                "item": a.item_id,
                "position": a.item.position,
                "dimension": a.item.dimension,
                "score": a.score,
            }
            for a in assessment.answers.all()
        ]


class AssessableCustomerField(IdRelatedField):
    """A business or channel customer the requesting user may see."""

    default_error_messages = {
        "does_not_exist": gettext_lazy(
            "No business or channel customer with id {pk_value} visible to you; partnership "
            "stages are assessed for business and channel customers only."
        ),
        "incorrect_type": gettext_lazy("Give the customer's id, a whole number."),
    }

    def get_queryset(self) -> QuerySet:
        return customers_assessable(user=self.context["request"].user)


class AssessmentCreateSerializer(serializers.Serializer):
    customer = AssessableCustomerField(help_text=gettext_lazy("The customer's id."))
    questionnaire = id_field(
        required=False,
        help_text=gettext_lazy(
            "The questionnaire version's id; the active partnership questionnaire when left out."
        ),
    )
    rater_role = serializers.ChoiceField(
        choices=RaterRole.choices,
        help_text=gettext_lazy(
            "Who answered: a company role (recorded as you) or the customer itself."
        ),
    )
    rater_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=gettext_lazy(
            "For the customer's own answers only: the person at the customer who answered."
        ),
    )
    answered_on = serializers.DateField(
        required=False, help_text=gettext_lazy("The day the rater answered; today when left out.")
    )
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    answers = serializers.ListField(
        child=AnswerSerializer(),
        min_length=1,
        max_length=500,
        help_text=gettext_lazy("One score from 1 to 5 for every item of the questionnaire."),
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        customer_answer = data["rater_role"] == RaterRole.CUSTOMER
        name = data.get("rater_name", "").strip()
        if customer_answer and not name:
            raise serializers.ValidationError(
                {"rater_name": [_("Say who at the customer answered.")]}
            )
        if not customer_answer and name:
            raise serializers.ValidationError(
                {
                    "rater_name": [
                        _(
                            "Only the customer's own answers take a rater name; a company "
                            "rater's answers are recorded as yours."
                        )
                    ]
                }
            )
        items = [a["item"] for a in data["answers"]]
        if len(set(items)) != len(items):
            raise serializers.ValidationError(
                {"answers": [_("An item is answered more than once; give each item one score.")]}
            )
        data["rater_name"] = name
        return data


class AssessmentFilterSet(django_filters.FilterSet):
    customer = IdFilter(
        field_name="customer_id",
        help_text=gettext_lazy("The customer's id."),
        schema=OpenApiTypes.INT,
    )
    customer_external_id = django_filters.CharFilter(
        field_name="customer__external_id",
        max_length=64,
        help_text=gettext_lazy("The customer's external id."),
    )
    questionnaire = IdFilter(
        field_name="questionnaire_id",
        help_text=gettext_lazy("The questionnaire version's id."),
        schema=OpenApiTypes.INT,
    )
    rater_role = django_filters.ChoiceFilter(choices=RaterRole.choices)
    stage = django_filters.ChoiceFilter(choices=PartnershipStage.choices)
    answered_from = django_filters.DateFilter(
        field_name="answered_on",
        lookup_expr="gte",
        help_text=gettext_lazy("Answered on or after this day."),
    )
    answered_to = django_filters.DateFilter(
        field_name="answered_on",
        lookup_expr="lte",
        help_text=gettext_lazy("Answered on or before this day."),
    )

    class Meta:
        model = Assessment
        fields: list[str] = []


def _questionnaire_for(questionnaire_id: int | None) -> Questionnaire:
    """The questionnaire an assessment is recorded on: the one asked for, or the active
    partnership questionnaire (the page's rule)."""
    if questionnaire_id is not None:
        questionnaire = Questionnaire.objects.filter(pk=questionnaire_id).first()
        if questionnaire is None:
            raise serializers.ValidationError(
                {"questionnaire": [_("No questionnaire has this id.")]}
            )
        return questionnaire
    questionnaire = active_questionnaire(DEFAULT_QUESTIONNAIRE_CODE)
    if questionnaire is None:
        raise GuanxiError(
            _("No questionnaire is active; an administrator must activate one."),
            code=ErrorCode.NOT_ALLOWED,
            field="questionnaire",
        )
    return questionnaire


@extend_schema_view(
    list=extend_schema(summary="Stage assessments of the customers visible to you"),
    retrieve=extend_schema(summary="One stage assessment with its answers"),
    create=extend_schema(
        summary="Record a stage assessment (admin, manager, sales)",
        request=AssessmentCreateSerializer,
        responses={201: AssessmentSerializer},
    ),
)
class AssessmentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Stage assessments (关系阶段评估): every role reads those of the customers it sees; the
    raters — admin, manager and sales — record them."""

    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    pagination_class = IdCursorPagination
    action_roles = {"create": RECORDING_ROLES}
    queryset = Assessment.objects.none()

    def get_queryset(self) -> QuerySet:
        return assessments_visible(user=self.request.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return AssessmentCreateSerializer
        return AssessmentSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        questionnaire = _questionnaire_for(data.get("questionnaire"))
        items = {item.pk: item for item in questionnaire.items.all()}
        strays = sorted(a["item"] for a in data["answers"] if a["item"] not in items)
        if strays:
            raise serializers.ValidationError(
                {
                    "answers": [
                        _(
                            "Item %(items)s is not in questionnaire %(q)s; answer the items of "
                            "that version by their ids."
                        )
                        % {"items": ", ".join(map(str, strays)), "q": questionnaire}
                    ]
                }
            )
        customer_answer = data["rater_role"] == RaterRole.CUSTOMER
        assessment = assessment_record(
            customer=data["customer"],
            questionnaire=questionnaire,
            rater_role=data["rater_role"],
            answers={items[a["item"]]: a["score"] for a in data["answers"]},
            answered_on=data.get("answered_on") or timezone.localdate(),
            rater=None if customer_answer else request.user,
            rater_name=data["rater_name"] if customer_answer else "",
            notes=data.get("notes", ""),
            actor=request.user,
        )
        created = self.get_queryset().get(pk=assessment.pk)
        return Response(AssessmentSerializer(created).data, status=status.HTTP_201_CREATED)


# -- one relationship --------------------------------------------------------------------------


class LatestAssessmentSerializer(serializers.Serializer):
    rater_role = serializers.ChoiceField(choices=RaterRole.choices)
    assessment = serializers.IntegerField(help_text=gettext_lazy("The assessment's id."))
    answered_on = serializers.DateField()
    mean_score = serializers.FloatField()
    stage = serializers.ChoiceField(choices=PartnershipStage.choices)


class DimensionScoreSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    label = serializers.CharField()
    company = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("The company raters' mean score (1–5).")
    )
    customer = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("The customer's own mean score (1–5).")
    )


class RelationshipStageSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_external_id = serializers.CharField()
    customer_name = serializers.CharField()
    as_of = serializers.DateField()
    window_start = serializers.DateField(
        help_text=gettext_lazy("Assessments answered before this day have lapsed.")
    )
    company_score = serializers.FloatField(allow_null=True)
    company_stage = serializers.ChoiceField(
        choices=PartnershipStage.choices,
        allow_null=True,
        help_text=gettext_lazy("The stage in the company raters' view; null if none answered."),
    )
    customer_score = serializers.FloatField(allow_null=True)
    customer_stage = serializers.ChoiceField(
        choices=PartnershipStage.choices,
        allow_null=True,
        help_text=gettext_lazy("The stage in the customer's own view; null if it did not answer."),
    )
    perception_gap = serializers.BooleanField(
        help_text=gettext_lazy("The two views are at least one stage apart.")
    )
    stage_difference = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy(
            "Company stage minus customer stage, in stages (positive: the company sees it higher)."
        ),
    )
    latest = LatestAssessmentSerializer(
        many=True, help_text=gettext_lazy("Each rater role's latest assessment that counts.")
    )
    dimensions = DimensionScoreSerializer(many=True)


class RelationshipQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)

    def validate_as_of(self, value: dt.date) -> dt.date:
        if value < EARLIEST_AS_OF:
            raise serializers.ValidationError(
                _("Give a day from %(day)s on.") % {"day": EARLIEST_AS_OF.isoformat()}
            )
        return value


@extend_schema_view(
    retrieve=extend_schema(
        summary="Where one relationship stands: each side's stage and the perception gap",
        parameters=[
            OpenApiParameter(
                "customer_id",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description=gettext_lazy("The customer's id."),
            ),
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATE,
                description=gettext_lazy("Judge as of this day; today when left out."),
            ),
        ],
        responses=RelationshipStageSerializer,
    )
)
class RelationshipStageViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One business or channel relationship's stage assessment: every role reads those of the
    customers it sees."""

    serializer_class = RelationshipStageSerializer
    lookup_url_kwarg = "customer_id"
    filter_backends: list = []
    queryset = Assessment.objects.none()

    def get_queryset(self) -> QuerySet:
        return customers_assessable(user=self.request.user).only("id", "external_id", "name")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        params = RelationshipQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        customer = self.get_object()
        standing = relationship_assessment(customer, as_of=params.validated_data.get("as_of"))
        data = {
            "customer": customer.pk,
            "customer_external_id": customer.external_id,
            "customer_name": customer.name,
            "as_of": standing.as_of,
            "window_start": standing.window_start,
            "company_score": standing.company_score,
            "company_stage": standing.company_stage,
            "customer_score": standing.customer_score,
            "customer_stage": standing.customer_stage,
            "perception_gap": standing.perception_gap,
            "stage_difference": standing.stage_difference,
            "latest": [
                {
                    "rater_role": role,
                    "assessment": a.pk,
                    "answered_on": a.answered_on,
                    "mean_score": a.mean_score,
                    "stage": a.stage,
                }
                for role, a in standing.latest.items()
            ],
            "dimensions": [
                {
                    "dimension": d.dimension,
                    "label": d.label,
                    "company": d.company,
                    "customer": d.customer,
                }
                for d in dimension_scores(standing)
            ],
        }
        return Response(RelationshipStageSerializer(data).data)


routes = [
    ("questionnaires", QuestionnaireViewSet, "api-questionnaire"),
    ("assessments", AssessmentViewSet, "api-assessment"),
    ("relationship-stages", RelationshipStageViewSet, "api-relationship-stage"),
]
