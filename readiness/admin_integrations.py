"""The admin of the integrations: notification rules (with "send test"), their delivery log, API tokens.

A channel's URL is a secret (a Slack or Teams webhook's path is its key), and so is a webhook's
signing key: lists show the URL's scheme and host only, and the form never sends either back to
the browser; leaving the field empty keeps what is stored. Deliveries and tokens are read-only
here: deliveries are the log, and tokens are made (and shown once) on the settings page or with
``manage.py api_token``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from readiness.models import ApiToken, NotificationDelivery, NotificationRule
from readiness.services.notification_channels import shown_target, target_problem
from readiness.services.notifications import rule_send_test

__all__ = ["ApiTokenAdmin", "NotificationDeliveryAdmin", "NotificationRuleAdmin"]


class _SecretInput(forms.PasswordInput):
    """Never renders the stored value; says whether one is set."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, render_value=False, **kwargs)


class NotificationRuleForm(forms.ModelForm):
    target = forms.CharField(
        required=False,
        widget=_SecretInput(attrs={"size": 80, "autocomplete": "off"}),
        help_text="the webhook URL, or email addresses (comma-separated); stored, never shown again: "
        "leave empty to keep the current one",
    )
    secret = forms.CharField(
        required=False,
        widget=_SecretInput(attrs={"size": 40, "autocomplete": "off"}),
        help_text="outbound webhooks: the HMAC key of X-Readiness-Signature-256; empty keeps the current one",
    )

    class Meta:
        model = NotificationRule
        fields = ("name", "event", "channel", "target", "secret", "teams", "repos", "campaign", "enabled")

    def clean_target(self) -> str:
        value = self.cleaned_data["target"].strip()
        if not value:
            if self.instance.pk and self.instance.target:
                return self.instance.target
            raise forms.ValidationError("a webhook URL or email addresses are needed")
        problem = target_problem(self.data.get("channel") or "", value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_secret(self) -> str:
        value = self.cleaned_data["secret"].strip()
        return value or (self.instance.secret if self.instance.pk else "")


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    form = NotificationRuleForm
    list_display = ("name", "event", "channel", "destination", "scope", "enabled")
    list_filter = ("event", "channel", "enabled")
    filter_horizontal = ("teams", "repos")
    actions = ["send_test"]
    search_fields = ("name",)
    change_form_template = "admin/readiness/notificationrule/change_form.html"  # adds the "Send test" button

    def get_urls(self):
        send = self.admin_site.admin_view(require_POST(self.send_test_view))
        return [
            path("<int:rule_id>/send-test/", send, name="readiness_notificationrule_send_test"),
            *super().get_urls(),
        ]

    def send_test_view(self, request: HttpRequest, rule_id: int) -> HttpResponse:
        rule = get_object_or_404(NotificationRule, pk=rule_id)
        if not self.has_change_permission(request, rule):
            messages.error(request, "You may not change this rule.")
        else:
            self._report_test(request, rule)
        return redirect(reverse("admin:readiness_notificationrule_change", args=[rule_id]))

    def _report_test(self, request: HttpRequest, rule: NotificationRule) -> None:
        delivery = rule_send_test(rule_id=rule.pk)
        if delivery.state == NotificationDelivery.State.SENT:
            self.message_user(request, f"{rule.name}: test sent ({delivery.delivery_id}).", messages.SUCCESS)
        else:
            self.message_user(request, f"{rule.name}: test failed: {delivery.error}", messages.ERROR)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("campaign").prefetch_related("teams", "repos")

    @admin.display(description="sends to")
    def destination(self, rule: NotificationRule) -> str:
        return shown_target(rule.channel, rule.target)

    @admin.display(description="scope")
    def scope(self, rule: NotificationRule) -> str:
        parts = [f"team {t.name}" for t in rule.teams.all()] + [r.name for r in rule.repos.all()]
        if rule.campaign is not None:
            parts.append(f"campaign {rule.campaign.name}")
        return ", ".join(parts) or "organisation"

    @admin.action(description="Send a test notification")
    def send_test(self, request: HttpRequest, queryset: QuerySet) -> None:
        for rule in queryset:
            self._report_test(request, rule)


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "rule_name", "event", "state", "attempts", "retried", "response_status", "test")
    list_filter = ("state", "event", "retried", "test")
    list_select_related = ("rule",)
    search_fields = ("event_key", "delivery_id")
    readonly_fields = [f.name for f in NotificationDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the log: it goes with its rule

    @admin.display(description="rule", ordering="rule__name")
    def rule_name(self, delivery: NotificationDelivery) -> str:
        return delivery.rule.name


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    list_select_related = ("user",)
    fields = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
