"""``notify add|list|test|remove|listen``: notification rules from the command line, and a receiver.

``notify add --channel webhook --url http://127.0.0.1:9000/ --event repo-became-ready [--event …]
[--secret S] [--team T …] [--repo R …] [--campaign SLUG]`` makes one rule per event (``--event all``:
every event); ``notify listen --port 9000 [--secret S]`` is a local receiver that prints each
delivery and checks its signature, to try rules (and the demo) without a chat service. Channel
URLs are secrets: nothing here prints one beyond its scheme and host.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core.management.base import BaseCommand, CommandError

from readiness.models import NotificationRule
from readiness.services.notification_channels import SIGNATURE_HEADER, item_line, shown_target
from readiness.services.notifications import RuleError, rule_add, rule_send_test
from readiness.services.signatures import webhook_signature_valid

_EVENTS = NotificationRule.Event.values


class Command(BaseCommand):
    help = "Add, list, test and remove notification rules; or run a local receiver that prints deliveries."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a rule per --event")
        add.add_argument("--channel", required=True, choices=NotificationRule.Channel.values)
        add.add_argument("--url", help="the webhook URL (slack, teams, webhook)")
        add.add_argument("--to", help="email addresses, comma-separated (email)")
        add.add_argument("--event", action="append", required=True, choices=[*_EVENTS, "all"])
        add.add_argument("--secret", default="", help="webhook: the HMAC key of the signature header")
        add.add_argument("--team", action="append", default=[])
        add.add_argument("--repo", action="append", default=[])
        add.add_argument("--campaign")
        add.add_argument("--name", default="")
        sub.add_parser("list", help="the rules (URLs shown by scheme and host only)")
        test = sub.add_parser("test", help="send a test notification through a rule now")
        test.add_argument("rule_id", type=int)
        remove = sub.add_parser("remove", help="delete a rule (and its delivery log)")
        remove.add_argument("rule_id", type=int)
        listen = sub.add_parser("listen", help="receive webhooks on 127.0.0.1 and print them")
        listen.add_argument("--port", type=int, default=9000)
        listen.add_argument("--host", default="127.0.0.1")
        listen.add_argument("--secret", default="", help="check X-Readiness-Signature-256 with this key")
        listen.add_argument("--count", type=int, default=0, help="stop after this many deliveries (0: never)")

    def handle(self, *args, action: str, **opts) -> None:
        getattr(self, f"_{action}")(**opts)

    def _add(self, *, channel, url, to, event, secret, team, repo, campaign, name, **_opts) -> None:
        target = to if channel == "email" else url
        if not target:
            raise CommandError("--to is needed for email, --url for the other channels", returncode=2)
        events = _EVENTS if "all" in event else list(dict.fromkeys(event))
        shown = shown_target(channel, target)
        for ev in events:
            try:
                rule = rule_add(
                    name=name or f"{ev} → {channel} {shown}",
                    event=ev,
                    channel=channel,
                    target=target,
                    secret=secret,
                    teams=team,
                    repos=repo,
                    campaign=campaign,
                )
            except RuleError as exc:
                raise CommandError(str(exc), returncode=2) from None
            self.stdout.write(f"rule {rule.pk}: {ev} → {channel} {shown}")

    def _list(self, **_opts) -> None:
        for rule in NotificationRule.objects.order_by("pk"):
            shown = shown_target(rule.channel, rule.target)
            state = "" if rule.enabled else " (disabled)"
            self.stdout.write(f"{rule.pk}\t{rule.event}\t{rule.channel}\t{shown}\t{rule.name}{state}")

    def _test(self, *, rule_id, **_opts) -> None:
        if not NotificationRule.objects.filter(pk=rule_id).exists():
            raise CommandError(f"no rule {rule_id}", returncode=2)
        delivery = rule_send_test(rule_id=rule_id)
        if delivery.state != "sent":
            raise CommandError(f"test failed: {delivery.error}")
        self.stdout.write(f"test sent (delivery {delivery.delivery_id})")

    def _remove(self, *, rule_id, **_opts) -> None:
        deleted, _ = NotificationRule.objects.filter(pk=rule_id).delete()
        if not deleted:
            raise CommandError(f"no rule {rule_id}", returncode=2)
        self.stdout.write(f"rule {rule_id} removed")

    def _listen(self, *, host, port, secret, count, **_opts) -> None:
        command = self
        received = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                nonlocal received
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                command._print_delivery(body, self.headers.get(SIGNATURE_HEADER, ""), secret)
                received += 1

        server = HTTPServer((host, port), Handler)  # one request at a time: --count counts them in order
        self.stdout.write(f"listening on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
        self.stdout.flush()
        try:
            while not count or received < count:
                server.handle_request()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def _print_delivery(self, body: bytes, signature: str, secret: str) -> None:
        if not secret:
            check = "unsigned" if not signature else "signed (no --secret to check it)"
        else:
            valid = webhook_signature_valid(secret=secret, body=body, signature=signature)
            check = "signature valid" if valid else "SIGNATURE INVALID"
        try:
            event = json.loads(body)
        except ValueError:
            self.stdout.write(f"received {len(body)} bytes that are not JSON ({check})")
            return
        self.stdout.write(f"{event.get('event')}: {event.get('title')} ({check})")
        for item in event.get("items") or []:
            self.stdout.write(f"  - {item_line(item)}")
        self.stdout.write(f"  {event.get('url')}  delivery {event.get('delivery_id')}")
        self.stdout.flush()
