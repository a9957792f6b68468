# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Compliance rules over one HPCS or Key Protect instance: the rule table, the user's configuration, the evaluation.

Read-only by construction: ``read_estate`` takes a KMS client (the module hands it a ``ReadOnlyKmsClient``) and
everything else is a pure function of what was read, so the rules are tested on plain dictionaries.

Where the rules come from (docs/compliance facts of the wire reference, section 7): CIS IBM Cloud Foundations Benchmark
8.1.1 (automatic rotation of customer managed keys) and 8.1.2 (high availability); the 2022 SCC goals 3000230, 3000231,
3000234, 3000235, 3000510, 3000542, 3000543 and 3000544. Ages are measured at the service's time (the ``Date`` header
of its first answer), so a report does not depend on the clock of the machine that runs it.
"""

import calendar
import datetime
import email.utils
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import KmsClient
from ansible_collections.ibm.hs_crypto.plugins.module_utils._crn import parse_instance_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import effective, read_policies
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import format_rfc3339, parse_rfc3339
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import STATE_NAMES
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import DEDICATED_PLAN, HPCS, KEY_PROTECT
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import run_all

SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("pass", "fail", "waived", "not_applicable", "disabled")
LISTED_STATES = "0,1,2,3,5"
ACTIVE, SUSPENDED, DEACTIVATED, DESTROYED = 1, 2, 3, 5
POLICY_STATES = (ACTIVE, SUSPENDED)  # root keys whose key policies are read
INACTIVE_STATES = (SUSPENDED, DEACTIVATED, DESTROYED)
HPCS_END_OF_SUPPORT = datetime.datetime(2027, 3, 28, tzinfo=datetime.timezone.utc)
CROSS_REGION_PLAN = "cross-region-resiliency"
CROSS_REGION_REGIONS = ("us-south", "jp-tok", "eu-de")
PLANS = ("tiered-pricing", CROSS_REGION_PLAN, DEDICATED_PLAN)
READY_UNIT_STATE = "kms-initialized"
MIGRATION_PLAYBOOKS = "ibm.hs_crypto.migrate_plan (then ibm.hs_crypto.migrate_apply and ibm.hs_crypto.migrate_verify)"
DATE_RE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})\Z")
WAIVER_FIELDS = ("rule", "key", "instance_id", "reason", "expires")
RULE_FIELDS = ("enabled", "severity", "params")

ALL_SERVICES = ["hs_crypto", "key_protect:tiered-pricing", "key_protect:cross-region-resiliency", "key_protect:dedicated"]


def _rule(rule_id, title, benchmarks, severity, scope, fields, applies_to=None, params=None):
    return {"id": rule_id, "title": title, "benchmarks": benchmarks, "severity": severity, "scope": scope,
            "params": params or {}, "fields": fields, "applies_to": applies_to or list(ALL_SERVICES)}


# params: name -> (default, minimum, maximum); all are whole numbers.
RULES = (
    _rule("rotation-enabled", "Generated root keys have automatic rotation enabled",
          ["CIS IBM Cloud Foundations 8.1.1", "SCC 3000230 (Key Protect)", "SCC 3000235 (Hyper Protect Crypto Services)"],
          "high", "key", ["extractable", "imported", "state", "GET /keys/{id}/policies: rotation.enabled"]),
    _rule("rotation-interval", "Automatic rotation happens at least every max_interval_month months",
          ["SCC 3000235 (Hyper Protect Crypto Services)"], "medium", "key",
          ["GET /keys/{id}/policies: rotation.interval_month"], params={"max_interval_month": (12, 1, 12)}),
    _rule("rotation-overdue", "Generated root keys were rotated within their rotation interval",
          ["CIS IBM Cloud Foundations 8.1.1", "SCC 3000235 (Hyper Protect Crypto Services)"], "medium", "key",
          ["lastRotateDate", "creationDate", "GET /keys/{id}/policies: rotation.interval_month"],
          params={"max_interval_month": (12, 1, 12), "grace_days": (7, 0, 3650)}),
    _rule("imported-rotated", "Imported root keys were rotated manually within max_age_days",
          ["CIS IBM Cloud Foundations 8.1.1"], "medium", "key", ["imported", "lastRotateDate", "creationDate"],
          params={"max_age_days": (365, 1, 36500)}),
    _rule("instance-dual-auth", "The instance's dual authorization deletion policy is enabled",
          ["SCC 3000543 (Key Protect)", "SCC 3000234 (Hyper Protect Crypto Services)"], "high", "instance",
          ["GET /instance/policies: dualAuthDelete.enabled"]),
    _rule("key-dual-auth", "Root keys have dual authorization for deletion enabled", ["SCC 3000543 (Key Protect)"], "medium", "key",
          ["GET /keys/{id}/policies: dualAuthDelete.enabled"]),
    _rule("expiring-keys", "No active key expires within the next days", [], "medium", "key", ["expirationDate", "state"],
          params={"days": (30, 0, 36500)}),
    _rule("inactive-key-registrations", "No suspended, deactivated or deleted key still protects registered resources", [],
          "critical", "key", ["state", "GET /keys/registrations: keyId"]),
    _rule("private-only", "The instance is reachable only through private endpoints",
          ["SCC 3000542 (Key Protect)", "SCC 3000510 (Hyper Protect Crypto Services)"], "high", "instance",
          ["GET /instance/policies: allowedNetwork.allowed_network", "GET /instance/policies: allowedIP.enabled (Key Protect)"]),
    _rule("high-availability", "Key Protect Standard uses the cross-region-resiliency plan where it is offered",
          ["CIS IBM Cloud Foundations 8.1.2", "SCC 3000231 (Key Protect)"], "low", "instance", ["Resource Controller: resource_plan_id, region"],
          applies_to=["key_protect:tiered-pricing", "key_protect:cross-region-resiliency"]),
    _rule("import-token-enforced", "Key material is imported only with an import token", ["SCC 3000544 (Key Protect)"], "medium", "instance",
          ["GET /instance/policies: keyCreateImportAccess.enforce_token"],
          applies_to=["hs_crypto", "key_protect:tiered-pricing", "key_protect:cross-region-resiliency"]),
    _rule("metrics-enabled", "The metrics policy is enabled", [], "low", "instance", ["GET /instance/policies: metrics.enabled"]),
    _rule("dedicated-units-initialized", "Every crypto unit of the Dedicated instance is initialized", ["SCC 3000233"], "high", "instance",
          ["GET /api/v1/cryptounits: state"], applies_to=["key_protect:dedicated"]),
    _rule("hpcs-end-of-support", "The instance does not depend on Hyper Protect Crypto Services (end of support 2027-03-28)", [],
          "high", "instance", ["service"], applies_to=["hs_crypto"], params={"critical_days": (90, 0, 36500)}),
    _rule("waiver-expired", "No waiver has expired", [], "medium", "instance", ["waivers[].expires"]),
)
RULE_IDS = tuple(rule["id"] for rule in RULES)
RULE_BY_ID = dict((rule["id"], rule) for rule in RULES)
# Rules that read the key policies (GET /keys/{id}/policies): with all of them disabled, those reads are skipped.
KEY_POLICY_RULES = ("rotation-enabled", "rotation-interval", "rotation-overdue", "key-dual-auth")
INSTANCE_POLICY_RULES = ("instance-dual-auth", "private-only", "import-token-enforced", "metrics-enabled")


def rule_table():
    """The rule table as results show it (defaults of the params as plain values)."""
    return [dict(rule, params=dict((name, spec[0]) for name, spec in rule["params"].items())) for rule in RULES]


# -- configuration -----------------------------------------------------------------------------------------------------

def _whole(value, option, rule_id, low, high):
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and re.match(r"^[0-9]{1,9}\Z", value.strip()):
            value = int(value.strip())
        else:
            raise ConfigurationError(f"{option}: rule {rule_id} takes a whole number from {int(low)} to {int(high)} (got {shown(value)})")
    if not low <= value <= high:
        raise ConfigurationError(f"{option}: rule {rule_id} takes a whole number from {int(low)} to {int(high)} (got {int(value)})")
    return value


def _boolean(value, option, rule_id):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        return value.strip().lower() in ("true", "yes", "on", "1")
    raise ConfigurationError(f"{option}: rule {rule_id} takes true or false (got {shown(value)})")


def parse_rules(given):
    """``{rule id: {enabled, severity, severity_set, params}}`` for every rule: the user's ``rules`` merged over the defaults.

    Unknown rule ids, fields and params and bad values raise ``ConfigurationError`` naming ``rules.<id>...`` and the rule.
    """
    given = given or {}
    if not isinstance(given, dict):
        raise ConfigurationError(f"rules must be a dictionary of rule id -> {{enabled, severity, params}} (got {shown(given)})")
    unknown = sorted(str(name) for name in given if name not in RULE_BY_ID)
    if unknown:
        raise ConfigurationError(f"rules.{unknown[0]}: there is no rule {unknown[0]!r}; the rules are {', '.join(RULE_IDS)}")
    config = {}
    for rule in RULES:
        rule_id = rule["id"]
        entry = given.get(rule_id)
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise ConfigurationError(f"rules.{rule_id}: rule {rule_id} takes a dictionary with enabled, severity and params (got {shown(entry)})")
        extra = sorted(str(name) for name in entry if name not in RULE_FIELDS)
        if extra:
            raise ConfigurationError(f"rules.{rule_id}.{extra[0]}: rule {rule_id} has no such setting; expected {', '.join(RULE_FIELDS)}")
        enabled = True if entry.get("enabled") is None else _boolean(entry["enabled"], f"rules.{rule_id}.enabled", rule_id)
        severity = entry.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise ConfigurationError(f"rules.{rule_id}.severity: rule {rule_id} takes one of {', '.join(SEVERITIES)} (got {shown(severity)})")
        params = entry.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ConfigurationError(f"rules.{rule_id}.params: rule {rule_id} takes a dictionary of params (got {shown(params)})")
        merged = {}
        for name in params:
            if name not in rule["params"]:
                known = ", ".join(rule["params"]) or "none"
                raise ConfigurationError(f"rules.{rule_id}.params.{name}: rule {rule_id} has no param {str(name)!r} (its params: {known})")
        for name, (default, low, high) in rule["params"].items():
            value = params.get(name)
            merged[name] = default if value is None else _whole(value, f"rules.{rule_id}.params.{name}", rule_id, low, high)
        config[rule_id] = {"enabled": enabled, "severity": severity or rule["severity"], "severity_set": severity is not None,
                           "params": merged}
    return config


def parse_expires(value, option):
    """When a waiver stops waiving: a date-time, or a date (the waiver holds through that whole day, UTC)."""
    if isinstance(value, (datetime.date, datetime.datetime)) and not isinstance(value, datetime.datetime):
        value = value.isoformat()
    if isinstance(value, str) and DATE_RE.match(value.strip()):
        try:
            day = datetime.datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            raise ConfigurationError(f"{option}: {shown(value)} is not a real date") from None
        return day + datetime.timedelta(days=1)
    if not isinstance(value, (str, datetime.datetime)):
        raise ConfigurationError(f"{option} must be an RFC 3339 date (2026-12-31) or date-time (2026-12-31T23:59:59Z) (got {shown(value)})")
    try:
        return parse_rfc3339(value, option)
    except ConfigurationError:
        raise ConfigurationError(f"{option} must be an RFC 3339 date (2026-12-31) or date-time (2026-12-31T23:59:59Z) "
                                 f"(got {shown(value)})") from None


def parse_waivers(given, instance_guid):
    """The ``waivers`` option, checked: ``[{rule, key, instance_id, reason, expires, expires_at}]``."""
    given = given or []
    if not isinstance(given, list):
        raise ConfigurationError(f"waivers must be a list of {{rule, key, instance_id, reason, expires}} (got {shown(given)})")
    waivers = []
    for index, entry in enumerate(given):
        where = f"waivers[{int(index)}]"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where} must be a dictionary with rule, reason, expires and optionally key and instance_id")
        extra = sorted(str(name) for name in entry if name not in WAIVER_FIELDS)
        if extra:
            raise ConfigurationError(f"{where}.{extra[0]}: a waiver has no such field; expected {', '.join(WAIVER_FIELDS)}")
        rule_id = entry.get("rule")
        if rule_id not in RULE_BY_ID or rule_id == "waiver-expired":
            raise ConfigurationError(f"{where}.rule: {shown(rule_id)} is not a rule that can be waived; the rules are "
                                     f"{', '.join(r for r in RULE_IDS if r != 'waiver-expired')}")
        key = entry.get("key")
        if key is not None and (not isinstance(key, str) or not key.strip()):
            raise ConfigurationError(f"{where}.key: rule {rule_id}: a key id or alias is expected (got {shown(key)})")
        if key is not None and RULE_BY_ID[rule_id]["scope"] == "instance":
            raise ConfigurationError(f"{where}.key: rule {rule_id} checks the instance, not keys: omit key to waive it for the instance")
        instance_id = entry.get("instance_id")
        if instance_id is not None:
            ref = parse_instance_id(instance_id, f"{where}.instance_id")
            if ref.guid != (instance_guid or "").lower():
                raise ConfigurationError(f"{where}.instance_id: rule {rule_id}: the waiver names instance {ref.guid}, but this task "
                                         f"checks instance {instance_guid}")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigurationError(f"{where}.reason: rule {rule_id}: a waiver needs a reason (non-empty text)")
        if entry.get("expires") is None:
            raise ConfigurationError(f"{where}.expires: rule {rule_id}: a waiver needs an expiry date (RFC 3339, such as 2026-12-31)")
        expires_at = parse_expires(entry["expires"], f"{where}.expires")
        expires = entry["expires"] if isinstance(entry["expires"], str) else format_rfc3339(expires_at)
        waivers.append({"rule": rule_id, "key": key.strip() if key else None, "instance_id": instance_id, "reason": reason.strip(),
                        "expires": expires.strip(), "expires_at": expires_at})
    return waivers


def check_plan(plan):
    if plan is not None and plan not in PLANS:
        raise ConfigurationError(f"plan must be one of {', '.join(PLANS)} (got {shown(plan)})")
    return plan


# -- time ----------------------------------------------------------------------------------------------------------------

def parse_http_date(value):
    """A UTC datetime from an HTTP ``Date`` header (RFC 7231 IMF-fixdate, or the obsolete forms), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def _moment(value):
    if not value:
        return None
    try:
        return parse_rfc3339(value, "date").astimezone(datetime.timezone.utc)
    except ConfigurationError:
        return None


def add_months(moment, months):
    """``moment`` plus whole calendar months (the day clamped to the month's length)."""
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


# -- reading -------------------------------------------------------------------------------------------------------------

class DatedClient:
    """A KMS client that keeps the service's time: the ``Date`` header of the first answer (``service_date``)."""

    def __init__(self, kms):
        self._kms = kms
        self.service_date = None

    def __getattr__(self, name):
        return getattr(self._kms, name)

    def request(self, method, path, **kwargs):
        result = self._kms.request(method, path, **kwargs)
        if self.service_date is None:
            headers = getattr(result, "headers", None) or {}
            self.service_date = parse_http_date(headers.get("Date"))
        return result

    def list_all(self, path, **kwargs):
        return KmsClient.list_all(self, path, **kwargs)


def _is_root(raw):
    return not raw.get("extractable")


def _state(raw):
    value = raw.get("state")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_key_policies(kms, key_id):
    """``{rotation: {enabled, interval_month} | None, dual_auth_delete: bool | None}`` of one key (one request)."""
    resources = kms.request("GET", f"keys/{key_id}/policies", context=f"Reading the policies of key {key_id}").resources
    found = {"rotation": None, "dual_auth_delete": None}
    for resource in resources:
        rotation = resource.get("rotation")
        if isinstance(rotation, dict):
            months = rotation.get("interval_month")
            found["rotation"] = {"enabled": bool(rotation.get("enabled", True)),
                                 "interval_month": months if isinstance(months, int) and not isinstance(months, bool) else None}
        if isinstance(resource.get("dualAuthDelete"), dict):
            found["dual_auth_delete"] = bool(resource["dualAuthDelete"].get("enabled"))
    return found


def read_estate(kms, config, units_reader=None, concurrency=1):
    """Everything the rules need, in one pass (``kms``: a read-only client; ``units_reader()``: the crypto units, Dedicated only).

    The policy reads of different keys go side by side, ``concurrency`` at a time (``_workers``): the API has no bulk
    form, so they are most of the requests of a large instance.

    Requests: the crypto units (Dedicated), the key listing (states 0,1,2,3,5, every page), the policies of each active or
    suspended root key (skipped when the rules that need them are all disabled), the instance policies, the registrations
    (one listing, every page). A Dedicated instance without an initialized unit answers 503 to key requests, so then
    only the units are read.
    """
    estate = {"keys": [], "key_policies": None, "policies": None, "policies_reason": None, "registrations": [],
              "units": None, "kms_reason": None}
    if units_reader is not None:
        estate["units"] = units_reader()
        if not any(unit.get("state") == READY_UNIT_STATE for unit in estate["units"]):
            estate["kms_reason"] = ("no crypto unit of the Dedicated instance is kms-initialized, so its key management API cannot "
                                    "answer (HTTP 503) and its keys and policies were not read")
            return estate
    estate["keys"] = [raw for raw in kms.list_all("keys", params={"state": LISTED_STATES}, context="Listing the keys")
                      if isinstance(raw.get("id"), str)]
    if any(config[rule_id]["enabled"] for rule_id in KEY_POLICY_RULES):
        read = [raw["id"] for raw in estate["keys"] if _is_root(raw) and _state(raw) in POLICY_STATES]
        estate["key_policies"] = dict(zip(read, run_all(lambda key_id: read_key_policies(kms, key_id), read, kms=kms,
                                                        concurrency=concurrency)))
    try:
        estate["policies"] = read_policies(kms)
    except ApiError as exc:
        if exc.status != 403:
            raise
        estate["policies_reason"] = (f"the instance policies could not be read (HTTP 403: {exc.message}); listing them needs the "
                                     "Manager role on the instance")
    estate["registrations"] = [raw for raw in kms.list_all("keys/registrations", context="Listing the registrations")
                               if isinstance(raw, dict)]
    return estate


# -- evaluation ----------------------------------------------------------------------------------------------------------

def _aliases(raw):
    value = raw.get("aliases")
    return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []


def normalize_keys(estate, now):
    """The keys as the rules (and the ``keys`` result) see them."""
    counts = {}
    for raw in estate.get("registrations") or ():
        key_id = raw.get("keyId")
        if isinstance(key_id, str):
            counts[key_id] = counts.get(key_id, 0) + 1
    policies = estate.get("key_policies")
    keys = []
    for raw in estate.get("keys") or ():
        state = _state(raw)
        root = _is_root(raw)
        key_policies = (policies or {}).get(raw["id"])
        rotation = None
        dual = raw.get("dualAuthDelete").get("enabled") if isinstance(raw.get("dualAuthDelete"), dict) else None
        if key_policies is not None:
            rotation = key_policies["rotation"]
            if key_policies["dual_auth_delete"] is not None:
                dual = key_policies["dual_auth_delete"]
        last = raw.get("lastRotateDate") or raw.get("creationDate")
        last_moment = _moment(last)
        days = (now - last_moment).days if root and last_moment is not None else None
        keys.append({
            "id": raw["id"], "name": raw.get("name"), "aliases": _aliases(raw), "type": "root" if root else "standard",
            "imported": bool(raw.get("imported")), "state": "deleted" if state == DESTROYED else STATE_NAMES.get(state, "unknown"),
            "state_code": state, "key_ring": raw.get("keyRingID") or "default", "creation_date": raw.get("creationDate"),
            "last_rotate_date": raw.get("lastRotateDate"), "expiration_date": raw.get("expirationDate"),
            "rotation_enabled": (bool(rotation["enabled"]) if rotation is not None else False) if key_policies is not None else None,
            "rotation_interval_month": rotation["interval_month"] if rotation is not None and rotation["enabled"] else None,
            "days_since_rotation": days, "registrations": counts.get(raw["id"], 0),
            "dual_auth_delete": bool(dual) if dual is not None else None, "policies_read": key_policies is not None,
        })
    return keys


KEY_RESULT_FIELDS = ("id", "name", "aliases", "type", "imported", "state", "key_ring", "creation_date", "last_rotate_date",
                     "expiration_date", "rotation_enabled", "rotation_interval_month", "days_since_rotation", "registrations")


class NotApplicable(Exception):
    """A rule that cannot apply to this instance (or could not be evaluated), with the reason."""


class Context:
    def __init__(self, estate, instance, keys, now, config):
        self.estate = estate
        self.instance = instance
        self.service = instance.get("service")
        self.plan = instance.get("plan")
        self.keys = keys
        self.now = now
        self.config = config

    def needs_keys(self):
        if self.estate.get("kms_reason"):
            raise NotApplicable(self.estate["kms_reason"])

    def needs_key_policies(self):
        self.needs_keys()
        if self.estate.get("key_policies") is None:
            raise NotApplicable("the key policies were not read")

    def policies(self):
        self.needs_keys()
        if self.estate.get("policies") is None:
            raise NotApplicable(self.estate.get("policies_reason") or "the instance policies were not read")
        return self.estate["policies"]

    def needs_service(self):
        if self.service is None:
            raise NotApplicable(f"the service of instance {self.instance.get('instance_id')} is unknown: set service (or let discovery "
                                "read the Resource Controller, without endpoint)")

    def needs_plan(self, why):
        self.needs_service()
        if self.service == KEY_PROTECT and self.plan is None:
            reason = self.instance.get("plan_reason") or "the plan of the Key Protect instance is unknown"
            raise NotApplicable(f"{reason}; set plan (tiered-pricing, cross-region-resiliency or dedicated) {why}")


def _finding(rule_id, ctx, message, observed, expected, key=None, severity=None):
    return {"rule": rule_id, "title": RULE_BY_ID[rule_id]["title"], "severity": severity, "scope": RULE_BY_ID[rule_id]["scope"],
            "instance_id": ctx.instance.get("instance_id"), "key_id": key["id"] if key else None, "key_name": key["name"] if key else None,
            "key_aliases": list(key["aliases"]) if key else [], "key_ring": key["key_ring"] if key else None, "message": message,
            "observed": observed, "expected": expected, "waived": False, "waiver": None}


def _label(key):
    return f"key {key['id']} ({key['name']!r})"


def _generated_active_roots(ctx):
    return [k for k in ctx.keys if k["type"] == "root" and not k["imported"] and k["state_code"] == ACTIVE]


def check_rotation_enabled(ctx, params):  # pylint: disable=unused-argument
    ctx.needs_key_policies()
    keys = _generated_active_roots(ctx)
    findings = [_finding("rotation-enabled", ctx, f"{_label(k)} is a generated root key without automatic rotation",
                         {"rotation_enabled": False}, {"rotation_enabled": True}, k) for k in keys if not k["rotation_enabled"]]
    return len(keys), findings


def check_rotation_interval(ctx, params):
    ctx.needs_key_policies()
    limit = params["max_interval_month"]
    keys = [k for k in _generated_active_roots(ctx) if k["rotation_enabled"]]
    findings = []
    for k in keys:
        months = k["rotation_interval_month"]
        if months is None or months > limit:
            findings.append(_finding("rotation-interval", ctx, f"{_label(k)} rotates every {months} months, more than {limit}",
                                     {"interval_month": months}, {"interval_month": f"<= {limit}"}, k))
    return len(keys), findings


def check_rotation_overdue(ctx, params):
    ctx.needs_key_policies()
    keys = _generated_active_roots(ctx)
    findings = []
    checked = 0
    for k in keys:
        last = _moment(k["last_rotate_date"] or k["creation_date"])
        if last is None:
            continue
        checked += 1
        months = k["rotation_interval_month"] or params["max_interval_month"]
        due = add_months(last, months) + datetime.timedelta(days=params["grace_days"])
        if ctx.now > due:
            what = "last rotated" if k["last_rotate_date"] else "created, never rotated,"
            findings.append(_finding(
                "rotation-overdue", ctx,
                f"{_label(k)} was {what} on {format_rfc3339(last)}, {k['days_since_rotation']} days ago: a rotation was due every "
                f"{months} months (plus {params['grace_days']} days of grace), by {format_rfc3339(due)}",
                {"last_rotation": format_rfc3339(last), "days_since_rotation": k["days_since_rotation"]},
                {"rotated_by": format_rfc3339(due), "interval_month": months}, k))
    return checked, findings


def check_imported_rotated(ctx, params):
    ctx.needs_keys()
    limit = params["max_age_days"]
    keys = [k for k in ctx.keys if k["type"] == "root" and k["imported"] and k["state_code"] == ACTIVE]
    findings = []
    checked = 0
    for k in keys:
        last = _moment(k["last_rotate_date"] or k["creation_date"])
        if last is None:
            continue
        checked += 1
        age = (ctx.now - last).days
        if age > limit:
            findings.append(_finding(
                "imported-rotated", ctx,
                f"{_label(k)} is an imported root key (it cannot rotate automatically) last given new material {age} days ago, on "
                f"{format_rfc3339(last)}: rotate it with new material (hs_crypto_key_rotate) at least every {limit} days",
                {"days_since_rotation": age}, {"days_since_rotation": f"<= {limit}"}, k))
    return checked, findings


def check_instance_dual_auth(ctx, params):  # pylint: disable=unused-argument
    view = effective("dual_auth_delete", ctx.policies().get("dual_auth_delete"))
    if view["enabled"]:
        return 1, []
    return 1, [_finding("instance-dual-auth", ctx, f"instance {ctx.instance.get('instance_id')} does not require dual authorization "
                        "to delete keys (instance policy dualAuthDelete); it applies to keys created after it is enabled",
                        {"dual_auth_delete": False}, {"dual_auth_delete": True})]


def check_key_dual_auth(ctx, params):  # pylint: disable=unused-argument
    ctx.needs_key_policies()
    keys = [k for k in ctx.keys if k["type"] == "root" and k["state_code"] in POLICY_STATES]
    findings = [_finding("key-dual-auth", ctx, f"{_label(k)} can be deleted by one person (its dualAuthDelete policy is not enabled)",
                         {"dual_auth_delete": False}, {"dual_auth_delete": True}, k) for k in keys if not k["dual_auth_delete"]]
    return len(keys), findings


def check_expiring_keys(ctx, params):
    ctx.needs_keys()
    days = params["days"]
    keys = [k for k in ctx.keys if k["state_code"] == ACTIVE]
    findings = []
    for k in keys:
        expires = _moment(k["expiration_date"])
        if expires is None:
            continue
        left = expires - ctx.now
        if expires <= ctx.now:
            message = f"{_label(k)} expired on {format_rfc3339(expires)}; the service deactivates it"
        elif left <= datetime.timedelta(days=days):
            message = f"{_label(k)} expires on {format_rfc3339(expires)}, in {left.days} days (within {days} days); then it is deactivated"
        else:
            continue
        findings.append(_finding("expiring-keys", ctx, message, {"expiration_date": k["expiration_date"], "days_left": left.days},
                                 {"days_left": f"> {days}"}, k))
    return len(keys), findings


def check_inactive_key_registrations(ctx, params):  # pylint: disable=unused-argument
    ctx.needs_keys()
    keys = [k for k in ctx.keys if k["state_code"] in INACTIVE_STATES]
    findings = [_finding("inactive-key-registrations", ctx,
                         f"{_label(k)} is {k['state']} but still has {k['registrations']} registration(s): the data of those resources "
                         "cannot be decrypted (data at risk)", {"state": k["state"], "registrations": k["registrations"]},
                         {"registrations": 0}, k) for k in keys if k["registrations"]]
    return len(keys), findings


def check_private_only(ctx, params):  # pylint: disable=unused-argument
    records = ctx.policies()
    network = effective("allowed_network", records.get("allowed_network"))
    allowed_ip = effective("allowed_ip", records.get("allowed_ip"))
    dedicated = ctx.service == KEY_PROTECT and ctx.plan == DEDICATED_PLAN
    if network["enabled"] and network["allowed_network"] == "private-only" and not dedicated:
        return 1, []
    if ctx.service != HPCS and allowed_ip["enabled"]:
        return 1, []
    if dedicated:
        if "allowed_ip" not in records and ctx.estate.get("policies_reason"):
            raise NotApplicable("a Key Protect Dedicated instance has no allowedNetwork policy and its allowedIP policy could not be read")
        return 1, [_finding("private-only", ctx, "the Key Protect Dedicated instance has no allowedNetwork policy and its allowedIP policy is "
                            "not enabled: restrict it with allowedIP or context-based restrictions (outside the key management API)",
                            {"allowed_ip": False}, {"allowed_ip": True})]
    observed = {"allowed_network": network["allowed_network"] if network["enabled"] else "public-and-private"}
    expected = {"allowed_network": "private-only"}
    also = ""
    if ctx.service != HPCS:
        observed["allowed_ip"] = allowed_ip["enabled"]
        expected = {"allowed_network": "private-only", "or allowed_ip": True}
        also = " and its allowedIP policy is not enabled"
    return 1, [_finding("private-only", ctx, f"the instance accepts requests on its public endpoint (allowedNetwork "
                        f"{observed['allowed_network']}){also}", observed, expected)]


def check_high_availability(ctx, params):  # pylint: disable=unused-argument
    ctx.needs_service()
    if ctx.service == HPCS:
        raise NotApplicable("Hyper Protect Crypto Services has no cross-region-resiliency plan (its failover units are an option "
                            "of the instance, outside the key management API)")
    ctx.needs_plan("to check high availability")
    region = ctx.instance.get("region")
    if ctx.plan == DEDICATED_PLAN:
        raise NotApplicable("the cross-region-resiliency plan is not offered for Key Protect Dedicated")
    if region not in CROSS_REGION_REGIONS:
        raise NotApplicable(f"the cross-region-resiliency plan is offered only in {', '.join(CROSS_REGION_REGIONS)}, not in "
                            f"{region or 'an unknown region'}")
    if ctx.plan == CROSS_REGION_PLAN:
        return 1, []
    return 1, [_finding("high-availability", ctx,
                        f"the Key Protect instance in {region} uses the {ctx.plan} plan, not cross-region-resiliency (a standby copy "
                        "in another region). The key management API shows no high availability setting: taking the plan as the "
                        "test is an inference (SCC marked 3000231 as met by default)",
                        {"plan": ctx.plan, "region": region}, {"plan": CROSS_REGION_PLAN})]


def check_import_token_enforced(ctx, params):  # pylint: disable=unused-argument
    ctx.needs_plan("to check import-token enforcement")
    if ctx.plan == DEDICATED_PLAN:
        raise NotApplicable("Key Protect Dedicated has no import tokens (secure import)")
    view = effective("key_create_import_access", ctx.policies().get("key_create_import_access"))
    if view["enabled"] and view["enforce_token"]:
        return 1, []
    how = "enabled without enforce_token" if view["enabled"] else "not enabled"
    return 1, [_finding("import-token-enforced", ctx, f"key material can be imported without an import token (keyCreateImportAccess {how})",
                        {"enabled": view["enabled"], "enforce_token": bool(view["enforce_token"])},
                        {"enabled": True, "enforce_token": True})]


def check_metrics_enabled(ctx, params):  # pylint: disable=unused-argument
    view = effective("metrics", ctx.policies().get("metrics"))
    if view["enabled"]:
        return 1, []
    return 1, [_finding("metrics-enabled", ctx, "the instance sends no operational metrics (metrics policy not enabled)",
                        {"metrics": False}, {"metrics": True})]


def check_dedicated_units(ctx, params):  # pylint: disable=unused-argument
    ctx.needs_plan("to check crypto units")
    if ctx.service == HPCS or ctx.plan != DEDICATED_PLAN:
        raise NotApplicable("only Key Protect Dedicated instances have crypto units to initialize")
    units = ctx.estate.get("units")
    if units is None:
        raise NotApplicable("the crypto units were not read")
    waiting = [unit for unit in units if unit.get("state") != READY_UNIT_STATE]
    if units and not waiting:
        return 1, []
    states = dict((unit["id"], unit["state"]) for unit in units)
    detail = ", ".join(f"{unit['id']} ({unit['state']})" for unit in waiting) or "none"
    return 1, [_finding("dedicated-units-initialized", ctx,
                        f"{len(waiting)} of {len(units)} crypto unit(s) are not kms-initialized: {detail}; initialize them with IBM's "
                        "CLI or Terraform (ibm_kms_cryptounits)", {"units": states}, {"state": READY_UNIT_STATE})]


def check_hpcs_end_of_support(ctx, params):
    ctx.needs_service()
    if ctx.service != HPCS:
        raise NotApplicable("the instance is a Key Protect instance, which the end of support of Hyper Protect Crypto Services does not affect")
    left = (HPCS_END_OF_SUPPORT - ctx.now).days
    severity = "critical" if left < params["critical_days"] else "high"
    when = f"in {left} days" if left >= 0 else f"{-left} days ago"
    return 1, [_finding("hpcs-end-of-support", ctx,
                        f"Hyper Protect Crypto Services reaches its end of support on 2027-03-28 ({when}), when remaining instances "
                        f"are deleted: move instance {ctx.instance.get('instance_id')} to Key Protect with the migration playbooks "
                        f"({MIGRATION_PLAYBOOKS})", {"service": HPCS, "days_left": left},
                        {"service": KEY_PROTECT}, severity=severity)]


CHECKS = {
    "rotation-enabled": check_rotation_enabled, "rotation-interval": check_rotation_interval, "rotation-overdue": check_rotation_overdue,
    "imported-rotated": check_imported_rotated, "instance-dual-auth": check_instance_dual_auth, "key-dual-auth": check_key_dual_auth,
    "expiring-keys": check_expiring_keys, "inactive-key-registrations": check_inactive_key_registrations,
    "private-only": check_private_only, "high-availability": check_high_availability,
    "import-token-enforced": check_import_token_enforced, "metrics-enabled": check_metrics_enabled,
    "dedicated-units-initialized": check_dedicated_units, "hpcs-end-of-support": check_hpcs_end_of_support,
}


def _matches(waiver, finding):
    if waiver["rule"] != finding["rule"]:
        return False
    if waiver["key"] is None:
        return True
    return waiver["key"] == finding["key_id"] or waiver["key"] in finding["key_aliases"]


def _public_waiver(waiver):
    return dict((name, waiver[name]) for name in WAIVER_FIELDS)


def evaluate(estate, instance, config, waivers, now):
    """The module's results (``instance``, ``evaluated_at``, ``rules``, ``findings``, ``keys``, ``summary``, ``unused_waivers``).

    ``instance``: ``{instance_id, crn, service, plan, region, name}`` (``plan_reason``: why the plan is unknown);
    ``config``: ``parse_rules``; ``waivers``: ``parse_waivers``; ``now``: the service's time.
    """
    keys = normalize_keys(estate, now)
    ctx = Context(estate, instance, keys, now, config)
    entries = []
    findings = []
    for rule in RULES:
        rule_id = rule["id"]
        settings = config[rule_id]
        entry = {"id": rule_id, "title": rule["title"], "severity": settings["severity"], "scope": rule["scope"],
                 "benchmarks": list(rule["benchmarks"]), "params": dict(settings["params"]), "enabled": settings["enabled"],
                 "status": None, "reason": None, "checked": 0, "failed": 0, "waived": 0}
        entries.append(entry)
        if not settings["enabled"]:
            entry.update(status="disabled", reason="disabled by rules." + rule_id + ".enabled")
            continue
        if rule_id == "waiver-expired":
            continue  # after the waivers are applied
        try:
            checked, found = CHECKS[rule_id](ctx, settings["params"])
        except NotApplicable as exc:
            entry.update(status="not_applicable", reason=str(exc))
            continue
        for finding in found:
            if settings["severity_set"] or finding["severity"] is None:
                finding["severity"] = settings["severity"]
        entry["checked"] = checked
        findings.extend(found)
    # Waivers: an active one waives the findings it matches; an expired one waives nothing and is a finding itself.
    used = set()
    expired_matches = {}
    for finding in findings:
        for index, waiver in enumerate(waivers):
            if not _matches(waiver, finding):
                continue
            if now >= waiver["expires_at"]:
                expired_matches.setdefault(index, []).append(finding)
                continue
            if not finding["waived"]:
                finding["waived"] = True
                finding["waiver"] = {"reason": waiver["reason"], "expires": waiver["expires"]}
                used.add(index)
    expired_entry = entries[RULE_IDS.index("waiver-expired")]
    if config["waiver-expired"]["enabled"]:
        expired_entry["checked"] = len(waivers)
        expired_entry["status"] = "pass"
        for index, waiver in enumerate(waivers):
            if now < waiver["expires_at"]:
                continue
            matched = expired_matches.get(index, [])
            order = dict((name, rank) for rank, name in enumerate(SEVERITIES))
            if config["waiver-expired"]["severity_set"]:
                severity = config["waiver-expired"]["severity"]
            elif matched:
                severity = min((f["severity"] for f in matched), key=lambda s: order[s])
            else:
                severity = config[waiver["rule"]]["severity"]
            first = matched[0] if matched and waiver["key"] else None
            target = f"key {waiver['key']}" if waiver["key"] else "the instance"
            finding = _finding("waiver-expired", ctx,
                               f"the waiver of rule {waiver['rule']} for {target} expired on {waiver['expires']} and waives nothing now "
                               f"({len(matched)} finding(s) of that rule are no longer waived); renew it or fix them",
                               {"rule": waiver["rule"], "key": waiver["key"], "expires": waiver["expires"], "findings": len(matched)},
                               {"expires": f"after {format_rfc3339(now)}"}, severity=severity)
            if first is not None:
                finding.update(key_id=first["key_id"], key_name=first["key_name"], key_aliases=list(first["key_aliases"]),
                               key_ring=first["key_ring"])
            findings.append(finding)
    by_rule = {}
    for finding in findings:
        by_rule.setdefault(finding["rule"], []).append(finding)
    for entry in entries:
        if entry["status"] in ("disabled", "not_applicable"):
            continue
        found = by_rule.get(entry["id"], [])
        entry["waived"] = sum(1 for f in found if f["waived"])
        entry["failed"] = len(found) - entry["waived"]
        entry["checked"] = max(entry["checked"], len(found))
        entry["status"] = "fail" if entry["failed"] else ("waived" if entry["waived"] else "pass")
    findings.sort(key=lambda f: RULE_IDS.index(f["rule"]))
    unused = [_public_waiver(w) for index, w in enumerate(waivers) if index not in used and now < w["expires_at"]]
    return {
        "instance": dict((name, instance.get(name)) for name in ("instance_id", "crn", "service", "plan", "region", "name")),
        "evaluated_at": format_rfc3339(now),
        "rules": entries,
        "findings": findings,
        "keys": [dict((name, k[name]) for name in KEY_RESULT_FIELDS) for k in keys],
        "summary": summarize(entries, findings, keys),
        "unused_waivers": unused,
    }


def summarize(entries, findings, keys):
    ran = [entry for entry in entries if entry["status"] in ("pass", "fail", "waived")]
    open_findings = [f for f in findings if not f["waived"]]
    checks = sum(entry["checked"] for entry in ran)
    failed = sum(entry["failed"] for entry in ran)
    return {
        "keys": len(keys),
        "rules_checked": len(ran),
        "rules_failed": sum(1 for entry in ran if entry["status"] == "fail"),
        "findings": len(open_findings),
        "waived": len(findings) - len(open_findings),
        "by_severity": dict((severity, sum(1 for f in open_findings if f["severity"] == severity)) for severity in SEVERITIES),
        "compliant_share": round((checks - failed) / checks, 4) if checks else None,
    }
