# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""The migration plan from an HPCS instance (the source) to a Key Protect instance (the target), and its verification.

Read-only by construction: the readers take a KMS client (the module hands them ``ReadOnlyKmsClient``s), and
everything else is a pure function of what was read. Key material is only ever read in verify mode, for standard
keys, compared in memory with ``hmac.compare_digest`` and dropped; no result, message or report holds it.

Steps (docs of IBM, "Migrating from Hyper Protect Crypto Services to Key Protect"): generated root keys are
re-created in the target and the IBM services re-wrap their data keys through migration intents (the CRKM tool reads
``sourceHpcsKeyCrn,targetKpDedicatedKeyCrn`` rows); imported root keys are imported again with the user's material;
standard keys are copied (``hs_crypto_key_copy``).
"""

import base64
import binascii
import datetime
import hmac
import json
import os
import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import ACCESS_ATTRIBUTES, effective, read_policies
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import STATE_NAMES
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import parse_rfc3339
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import DEDICATED_PLAN, DEDICATED_UNSUPPORTED

ALL_STATES = "0,1,2,3,5"
LIVE_STATES = "0,1,2,3"
POLICY_STATES = (0, 1, 2, 3)  # root keys whose key policies are read
DEFAULT_RING = "default"
# include_states values -> state codes; pre-activation (0) and active (1) keys always move.
INCLUDABLE_STATES = {"suspended": 2, "deactivated": 3}
MOVED_STATES = (0, 1)
DELETED = 5
DEFAULT_MATERIAL_VARIABLE = "hs_crypto_migration_material"
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")

ACTIONS = ("create", "import", "copy", "skip")
STATUSES = ("pending", "present", "mismatch", "skipped", "blocked")

# Services the IBM guide lists as not supporting migration intents yet (VPC ones by the resource type of their ``is`` CRN).
INTENT_UNSUPPORTED = {
    "appid": "App ID",
    "is:share": "VPC File Storage",
    "is:image": "VPC Images",
    "is:instance": "VPC VSI",
}
RECREATE_ADVICE = ("does not support migration intents yet: recreate the resource with the Key Protect key (or wait for the service "
                   "to support them)")
SECURE_IMPORT_DOC = "docs/secure-import.md"

REASONS = {
    "create": ("generated root key: a new root key is generated in Key Protect with the same name, aliases, description, key ring, "
               "expiration date, rotation and dual authorization policies; the services that use it re-wrap their data keys "
               "through migration intents (the CRKM rows)"),
    "copy": ("standard key: its material is readable, so hs_crypto_key_copy copies it into Key Protect in one process "
             "(standard_keys)"),
}


# -- reading ---------------------------------------------------------------------------------------------------------

def _aliases(raw):
    value = raw.get("aliases")
    return [a for a in value if isinstance(a, str)] if isinstance(value, list) else []


def _state(raw):
    value = raw.get("state")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _rotation(value):
    """``{enabled, interval_month}`` of a rotation policy (``interval_month`` only when enabled), or None when none is set."""
    if not isinstance(value, dict):
        return None
    enabled = bool(value.get("enabled", True))
    months = value.get("interval_month")
    return {"enabled": enabled, "interval_month": months if enabled else None}


def normalize_key(raw):
    """A key of a listing -> the plan's view of it (never material)."""
    state = _state(raw)
    dual = raw.get("dualAuthDelete") if isinstance(raw.get("dualAuthDelete"), dict) else {}
    return {
        "id": raw.get("id"),
        "crn": raw.get("crn"),
        "name": raw.get("name"),
        "aliases": _aliases(raw),
        "type": "standard" if raw.get("extractable") else "root",
        "imported": bool(raw.get("imported")),
        "state": "deleted" if state == DELETED else STATE_NAMES.get(state, "unknown"),
        "state_code": state,
        "key_ring": raw.get("keyRingID") or DEFAULT_RING,
        "rotation": _rotation(raw.get("rotation")),
        "dual_auth_delete": bool(dual.get("enabled")),
        "description": raw.get("description"),
        "expiration_date": raw.get("expirationDate"),
    }


def read_key_policies(kms, key_id):
    """``{rotation, dual_auth_delete}`` of one key (``GET /keys/{id}/policies``); a policy never set is None."""
    resources = kms.request("GET", f"keys/{key_id}/policies", context=f"Reading the policies of key {key_id}").resources
    found = {"rotation": None, "dual_auth_delete": None}
    for resource in resources:
        if isinstance(resource.get("rotation"), dict):
            found["rotation"] = _rotation(resource["rotation"])
        if isinstance(resource.get("dualAuthDelete"), dict):
            found["dual_auth_delete"] = bool(resource["dualAuthDelete"].get("enabled"))
    return found


def apply_key_policies(key, policies):
    """Update a normalized key with what its policies say (the listing does not carry the rotation policy)."""
    key["rotation"] = policies.get("rotation")
    if policies.get("dual_auth_delete") is not None:
        key["dual_auth_delete"] = policies["dual_auth_delete"]
    return key


def registration_service(resource_crn):
    """The service a resource CRN names (``cloud-object-storage``, ``databases-for-postgresql``); ``is:<resource type>``
    for VPC (``is:volume``, ``is:share``...), whose services differ in their support of migration intents."""
    segments = resource_crn.split(":") if isinstance(resource_crn, str) else []
    if len(segments) < 5 or segments[0] != "crn" or not segments[4]:
        return "unknown"
    service = segments[4]
    if service == "is":
        kind = segments[8] if len(segments) > 8 else ""
        return f"is:{kind}" if kind else "is"
    return service


def intent_supported(service):
    return service not in INTENT_UNSUPPORTED


def registration_entry(resource_crn, prevent_key_deletion, origin):
    service = registration_service(resource_crn)
    return {"resource_crn": resource_crn, "service": service, "prevent_key_deletion": bool(prevent_key_deletion),
            "intent_supported": intent_supported(service), "origin": origin}


def read_estate(kms):
    """Everything the plan needs from the source, in plain dicts.

    ``keys``: every key in every state (``state=0,1,2,3,5``, every page), normalized, with the key policies of root keys
    in states 0-3; ``key_rings``: ring ids; ``policies``: the instance policy records (``read_policies``);
    ``registrations``: key id -> registrations (one listing of all, every page).
    """
    keys = [normalize_key(raw) for raw in kms.list_all("keys", params={"state": ALL_STATES}, context="Listing the source keys")
            if isinstance(raw.get("id"), str)]
    for key in keys:
        if key["type"] == "root" and key["state_code"] in POLICY_STATES:
            apply_key_policies(key, read_key_policies(kms, key["id"]))
    rings = [ring.get("id") for ring in kms.list_all("key_rings", context="Listing the source key rings") if isinstance(ring.get("id"), str)]
    policies = read_policies(kms)
    registrations = {}
    for raw in kms.list_all("keys/registrations", context="Listing the source registrations"):
        if isinstance(raw.get("keyId"), str) and isinstance(raw.get("resourceCrn"), str):
            registrations.setdefault(raw["keyId"], []).append(
                registration_entry(raw["resourceCrn"], raw.get("preventKeyDeletion"), "registration"))
    return {"keys": keys, "key_rings": rings, "policies": policies, "registrations": registrations}


def read_live_keys(kms):
    """The target's live keys (states 0-3, every page), normalized."""
    return [normalize_key(raw) for raw in kms.list_all("keys", params={"state": LIVE_STATES}, context="Listing the target keys")
            if isinstance(raw.get("id"), str)]


def read_payload(kms, key_id, what):
    """The payload (base64 text) of a standard key, or None; the caller compares it and drops it."""
    try:
        raw = kms.request("GET", f"keys/{key_id}", context=f"Reading the {what} key {key_id}").resource
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise
    payload = (raw or {}).get("payload")
    return payload if isinstance(payload, str) and payload else None


def same_material(first, second):
    """Whether two base64 payloads hold the same bytes (constant time); never returns or logs them."""
    try:
        left, right = base64.b64decode(first, validate=True), base64.b64decode(second, validate=True)
    except (binascii.Error, ValueError):
        left, right = first.encode("utf-8"), second.encode("utf-8")
    return hmac.compare_digest(left, right)


# -- input checks ----------------------------------------------------------------------------------------------------

def check_material_variable(value):
    if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
        raise ConfigurationError(f"material_variable must be a variable name (letters, digits and '_', not starting with a digit), "
                                 f"got {shown(value)}")
    return value


def check_include_states(values):
    values = list(values or ())
    for value in values:
        if value not in INCLUDABLE_STATES:
            extra = " (deleted keys are never moved: restore it first)" if value in ("deleted", "destroyed") else ""
            raise ConfigurationError(f"include_states: {shown(value)} is not one of {', '.join(INCLUDABLE_STATES)}{extra}")
    return values


def _usage_services(value):
    """The services a KUR ``service_usage`` names: a list of names, a list of objects with a name, or a mapping."""
    if isinstance(value, dict):
        return sorted(str(name) for name in value)
    found = []
    if isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                name = item.get("service") or item.get("service_name") or item.get("name")
                if isinstance(name, str):
                    found.append(name)
    return found


def load_kur_report(path, source_guid):
    """``{key_id: {"associations": [...], "usage": [...]}}`` for the source instance's keys in a KUR JSON report.

    The report's ``result.kms_instances[]`` whose ``crn`` contains the source GUID are read; a problem with the file
    raises ``ConfigurationError`` naming the path. Returns ``(by_key, warnings)``.
    """
    def bad(problem):
        return ConfigurationError(f"kur_report {path}: {problem}")

    if not os.path.isfile(path):
        raise bad("no such file")
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise bad(f"cannot be read ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise bad(f"is not valid JSON ({exc})") from None
    result = data.get("result") if isinstance(data, dict) else None
    instances = result.get("kms_instances") if isinstance(result, dict) else None
    if not isinstance(instances, list):
        raise bad('is not a KUR report: expected {"result": {"kms_instances": [...]}}')
    by_key = {}
    matched = 0
    for index, instance in enumerate(instances):
        if not isinstance(instance, dict):
            raise bad(f"result.kms_instances[{index}] is not an object")
        crn = instance.get("crn")
        if not isinstance(crn, str) or source_guid.lower() not in crn.lower():
            continue
        matched += 1
        keys = instance.get("keys")
        keys = [] if keys is None else keys
        if not isinstance(keys, list):
            raise bad(f"result.kms_instances[{index}].keys is not a list")
        for position, key in enumerate(keys):
            where = f"result.kms_instances[{index}].keys[{position}]"
            if not isinstance(key, dict) or not isinstance(key.get("id"), str):
                raise bad(f"{where} is not an object with an id")
            associations = key.get("associations")
            associations = [] if associations is None else associations
            if not isinstance(associations, list):
                raise bad(f"{where}.associations is not a list")
            entry = by_key.setdefault(key["id"], {"associations": [], "usage": []})
            for number, association in enumerate(associations):
                if not isinstance(association, dict) or not isinstance(association.get("resource_crn"), str):
                    raise bad(f"{where}.associations[{number}] is not an object with a resource_crn")
                entry["associations"].append(registration_entry(association["resource_crn"], association.get("prevent_key_deletion"),
                                                                "kur_report"))
            entry["usage"].extend(_usage_services(key.get("service_usage")))
    warnings = []
    if not matched:
        warnings.append(f"kur_report {path} holds no instance whose crn contains the source instance {source_guid}: nothing was added")
    return by_key, warnings


def merge_kur(estate, by_key):
    """Add a KUR report's associations (not already registered) and usage to the estate's keys; unknown key ids are ignored."""
    known = {key["id"] for key in estate["keys"]}
    usage = estate.setdefault("usage", {})
    for key_id, entry in by_key.items():
        if key_id not in known:
            continue
        registered = estate["registrations"].setdefault(key_id, [])
        crns = {reg["resource_crn"] for reg in registered}
        for association in entry["associations"]:
            if association["resource_crn"] not in crns:
                registered.append(association)
                crns.add(association["resource_crn"])
        if entry["usage"]:
            usage[key_id] = sorted(set(usage.get(key_id, [])) | set(entry["usage"]))
    return estate


# -- classification and matching -------------------------------------------------------------------------------------

def classify(key, include_states=(), plan=None):
    """``(action, reason)`` of one source key: ``create``, ``import``, ``copy`` or ``skip``."""
    code = key["state_code"]
    if code == DELETED:
        return "skip", "deleted: deleted keys are never moved (restore it first, then plan again)"
    if code not in MOVED_STATES:
        name = key["state"]
        if name not in include_states or INCLUDABLE_STATES.get(name) != code:
            hint = f" (add {name} to include_states to move it)" if name in INCLUDABLE_STATES else ""
            return "skip", f"{name}: only active and pre-activation keys are moved{hint}"
    if key["type"] == "standard":
        return "copy", REASONS["copy"]
    if key["imported"]:
        reason = ("imported root key: the target key is imported with the same material, which you supply from Ansible Vault "
                  "(its payload comes from the material variable); a plain import over TLS")
        if plan == DEDICATED_PLAN:
            reason += " (Key Protect Dedicated has no import tokens)"
        else:
            reason += f"; on Key Protect Standard a secure import with an import token is also available ({SECURE_IMPORT_DOC})"
        return "import", reason
    return "create", REASONS["create"]


def _listed(ids):
    return ", ".join(sorted(ids))


def match_keys(keys, target_keys, include_states=(), plan=None):
    """Classify every source key and find its target twin.

    The twin is the live target key holding any of the source key's aliases; for a key without aliases, the one live
    target key of the same exact name and type. A key without aliases whose name another moved key shares is blocked
    (its twin could not be told apart). Returns ``(entries, blockers)``; each entry has ``source``, ``action``,
    ``reason``, ``twin`` (a normalized target key or None) and ``blocker`` (text or None).
    """
    entries = []
    for key in keys:
        action, reason = classify(key, include_states, plan)
        entries.append({"source": key, "action": action, "reason": reason, "twin": None, "blocker": None})
    moved = [entry for entry in entries if entry["action"] != "skip"]
    blockers = []
    by_name = {}
    for entry in moved:
        by_name.setdefault(entry["source"]["name"], []).append(entry)
    for name, group in sorted(by_name.items(), key=lambda item: str(item[0])):
        bare = [entry for entry in group if not entry["source"]["aliases"]]
        if len(group) > 1 and bare:
            ids = [entry["source"]["id"] for entry in bare]
            text = (f"Keys {_listed(ids)} have no aliases and share the name {name!r} with {len(group) - 1} other moved key(s): their "
                    "twins in the target cannot be told apart; add an alias to each in the source (hs_crypto_key aliases), then plan again")
            blockers.append(text)
            for entry in bare:
                entry["blocker"] = text
    claimed = set()
    by_alias = {}
    for target in target_keys:
        for alias in target["aliases"]:
            by_alias[alias] = target
    for entry in moved:
        aliases = entry["source"]["aliases"]
        holders = {}
        for alias in aliases:
            if alias in by_alias:
                holders[by_alias[alias]["id"]] = by_alias[alias]
        if len(holders) > 1:
            text = (f"The aliases of key {entry['source']['id']} ({entry['source']['name']!r}) are held by different target keys "
                    f"({_listed(holders)}): one key should hold them all; move the aliases in the target, then plan again")
            blockers.append(text)
            entry["blocker"] = entry["blocker"] or text
        elif holders:
            entry["twin"] = next(iter(holders.values()))
            claimed.add(entry["twin"]["id"])
    for entry in moved:
        source = entry["source"]
        if source["aliases"] or entry["blocker"]:
            continue
        named = [target for target in target_keys
                 if target["name"] == source["name"] and target["type"] == source["type"] and target["id"] not in claimed]
        if len(named) > 1:
            text = (f"Key {source['id']} ({source['name']!r}) has no aliases and {len(named)} live target keys have its name and type "
                    f"({_listed(t['id'] for t in named)}): add an alias in the source and to the right target key, then plan again")
            blockers.append(text)
            entry["blocker"] = text
        elif named:
            entry["twin"] = named[0]
            claimed.add(named[0]["id"])
    return entries, blockers


def _rotation_view(rotation):
    if not rotation or not rotation.get("enabled"):
        return {"enabled": False}
    return {"enabled": True, "interval_month": rotation.get("interval_month")}


def differences(entry):
    """What the twin lacks compared with the plan: type, aliases (missing ones), key ring, rotation, dual_auth_delete."""
    source, twin = entry["source"], entry["twin"]
    if twin is None:
        return []
    found = []
    if twin["type"] != source["type"]:
        found.append({"field": "type", "expected": source["type"], "found": twin["type"]})
    missing = [alias for alias in source["aliases"] if alias not in twin["aliases"]]
    if missing:
        found.append({"field": "aliases", "expected": missing, "found": twin["aliases"]})
    if twin["key_ring"] != source["key_ring"]:
        found.append({"field": "key_ring", "expected": source["key_ring"], "found": twin["key_ring"]})
    if entry["action"] in ("create", "import") and _rotation_view(source["rotation"]) != _rotation_view(twin["rotation"]):
        found.append({"field": "rotation", "expected": _rotation_view(source["rotation"]), "found": _rotation_view(twin["rotation"])})
    # A twin under dual authorization where the source key is not is stricter, not lacking: the target's instance policy
    # (carried from the source, which enabled it after creating older keys) gives it to every new key, and it cannot be undone.
    if source["dual_auth_delete"] and not twin["dual_auth_delete"]:
        found.append({"field": "dual_auth_delete", "expected": source["dual_auth_delete"], "found": twin["dual_auth_delete"]})
    return found


def status_of(entry):
    if entry["action"] == "skip":
        return "skipped"
    if entry["blocker"]:
        return "blocked"
    if entry["twin"] is None:
        return "pending"
    return "mismatch" if entry["differences"] else "present"


# -- policies ----------------------------------------------------------------------------------------------------------

def _note(policy, action, reason, replacement=None):
    return {"policy": policy, "action": action, "reason": reason, "replacement": replacement}


ACCESS_NEEDS = (("create_root_key", "create", "generate root keys"), ("import_root_key", "import", "import root keys"),
                ("import_standard_key", "copy", "import standard keys (hs_crypto_key_copy)"))


def map_policies(records, plan, actions=()):
    """The source's instance policies for the target: ``(declared, notes, follow_ups)``.

    ``plan`` is the target's plan (``dedicated`` for Dedicated; the caller passes ``dedicated`` when it is unknown).
    ``actions`` are the actions the plan holds: a key_create_import_access setting that would refuse them is deferred.
    """
    dedicated = plan == DEDICATED_PLAN
    declared, notes, follow_ups = {}, [], []
    for option in ("dual_auth_delete", "metrics"):
        enabled = effective(option, records.get(option))["enabled"]
        declared[option] = enabled
        notes.append(_note(option, "carried", f"{'enabled' if enabled else 'disabled'} in the source, the same in the target"))
    network = effective("allowed_network", records.get("allowed_network"))
    if network["enabled"]:
        if dedicated:
            notes.append(_note("allowed_network", "dropped", f"Key Protect Dedicated does not support {DEDICATED_UNSUPPORTED['allowed_network']}",
                               "context-based restrictions (CBR) rules on the Key Protect instance"))
            follow_ups.append(f"The source allows {network['allowed_network']} networks (allowed_network policy), which Key Protect "
                              "Dedicated does not have: restrict the target's networks with context-based restrictions rules.")
        else:
            declared["allowed_network"] = network["allowed_network"]
            notes.append(_note("allowed_network", "carried", f"{network['allowed_network']} in the source, the same in the target"))
            if network["allowed_network"] == "private-only":
                follow_ups.append("The target will accept requests on its private endpoint only (allowed_network private-only): run "
                                  "later tasks with endpoint_type private from a network that reaches it.")
    access = effective("key_create_import_access", records.get("key_create_import_access"))
    if access["enabled"]:
        attributes = {name: access[name] for name in ACCESS_ATTRIBUTES}
        changed = False
        if attributes["enforce_token"]:
            attributes["enforce_token"] = False
            changed = True
            if dedicated:
                notes.append(_note("key_create_import_access.enforce_token", "dropped",
                                   f"Key Protect Dedicated does not support {DEDICATED_UNSUPPORTED['import_token']}",
                                   "plain import over TLS; limit who may import keys with IAM policies"))
            else:
                notes.append(_note("key_create_import_access.enforce_token", "deferred",
                                   "a plain import of your material would be refused while import tokens are enforced",
                                   "enable enforce_token after the import"))
                follow_ups.append("After the imports, enable import-token enforcement on the target (hs_crypto_instance_policy "
                                  f"key_create_import_access.enforce_token: true); secure import is available on Key Protect Standard "
                                  f"({SECURE_IMPORT_DOC}).")
        for name, action, verb in ACCESS_NEEDS:
            if not attributes[name] and action in actions:
                attributes[name] = True
                changed = True
                notes.append(_note(f"key_create_import_access.{name}", "deferred",
                                   f"false in the source, but the migration must {verb} in the target", f"set {name} to false after the migration"))
                follow_ups.append(f"After the migration, set key_create_import_access.{name} to false on the target, as in the source.")
        declared["key_create_import_access"] = dict(enabled=True, **attributes)
        if not changed:
            notes.append(_note("key_create_import_access", "carried", "the same kinds of key may be created and imported in the target"))
    return declared, notes, follow_ups


# -- the plan ----------------------------------------------------------------------------------------------------------

def _future(value, now):
    if not value:
        return False
    try:
        return parse_rfc3339(value, "expiration_date") > now
    except ConfigurationError:
        return False


def key_entry(source, action, material_variable, now, follow_ups):
    """A declaration entry (options of hs_crypto_key) for a ``create`` or ``import`` key."""
    entry = {"name": source["name"]}
    if source["aliases"]:
        entry["aliases"] = list(source["aliases"])
    entry["type"] = "root"
    if source["description"]:
        entry["description"] = source["description"]
    if source["expiration_date"]:
        if _future(source["expiration_date"], now):
            entry["expiration_date"] = source["expiration_date"]
        else:
            follow_ups.append(f"Key {source['id']} ({source['name']!r}) expired on {source['expiration_date']}: its twin is created "
                              "without an expiration date (a past one is refused); disable it once created (hs_crypto_key enabled: false).")
    if source["key_ring"] != DEFAULT_RING:
        entry["key_ring"] = source["key_ring"]
    if source["rotation"] is not None:
        entry["rotation"] = _rotation_view(source["rotation"])
    if source["dual_auth_delete"]:
        entry["dual_auth_delete"] = True
    if source["state_code"] == INCLUDABLE_STATES["suspended"]:
        entry["enabled"] = False
    if action == "import":
        entry["payload"] = "{{ %s['%s'] }}" % (material_variable, source["id"])
    return entry


def instance_crn(key_crn):
    """The instance CRN (``...:<guid>::``) a key CRN belongs to, or None."""
    segments = key_crn.split(":") if isinstance(key_crn, str) else []
    if len(segments) != 10 or segments[0] != "crn":
        return None
    return ":".join(segments[:8] + ["", ""])


def build_plan(estate, entries, blockers, source, target, include_states=(), material_variable=DEFAULT_MATERIAL_VARIABLE,
               now=None, verify=False, materials=None):
    """The module's results from what was read: plan, declaration, standard_keys, crkm, summary, remaining, report.

    ``source``: {instance_id, crn, service}; ``target``: {instance_id, service, plan} (``plan`` already defaulted);
    ``materials``: source key id -> ``same``/``different``/``missing`` for standard keys (verify mode).
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    materials = materials or {}
    plan_name = target["plan"]
    follow_ups = []
    actions = {entry["action"] for entry in entries if entry["action"] != "skip" and not entry["blocker"]}
    declared_policies, notes, policy_follow_ups = map_policies(estate["policies"], plan_name, actions)
    registrations = estate["registrations"]
    usage = estate.get("usage", {})

    keys, declared_keys, standard_keys, rings = [], [], [], []
    crkm, crkm_pending = [], 0
    for entry in entries:
        entry["differences"] = differences(entry)
        entry["status"] = status_of(entry)
        src = entry["source"]
        regs = registrations.get(src["id"], [])
        twin = entry["twin"]
        item = {
            "source": {name: src[name] for name in ("id", "crn", "name", "aliases", "type", "imported", "state", "key_ring",
                                                    "rotation", "dual_auth_delete", "description", "expiration_date")},
            "registrations": [dict(reg) for reg in regs],
            "usage": list(usage.get(src["id"], [])),
            "action": entry["action"],
            "reason": entry["blocker"] or entry["reason"],
            "status": entry["status"],
            "target": {"id": twin["id"], "crn": twin["crn"]} if twin else None,
            "differences": entry["differences"],
            "material": None,
        }
        if verify and entry["action"] != "skip":
            item["material"] = materials.get(src["id"], "missing") if src["type"] == "standard" else "not comparable"
        keys.append(item)
        movable = entry["action"] != "skip" and not entry["blocker"]
        if movable and src["key_ring"] != DEFAULT_RING and src["key_ring"] not in rings:
            rings.append(src["key_ring"])
        if movable and entry["action"] in ("create", "import"):
            declared_keys.append(key_entry(src, entry["action"], material_variable, now, follow_ups))
        if movable and entry["action"] == "copy":
            standard_keys.append({"key_id": src["id"], "key_ring": src["key_ring"]})
        if entry["action"] in ("create", "import") and (regs or usage.get(src["id"])):
            if twin is not None and not entry["blocker"]:
                crkm.append({"source_crn": src["crn"], "target_crn": twin["crn"]})
            else:
                crkm_pending += 1
        if entry["action"] == "skip" and regs:
            follow_ups.append(f"Key {src['id']} ({src['name']!r}) is not moved ({src['state']}) but protects {len(regs)} resource(s): "
                              "re-key or recreate them before the source is retired.")

    # What is still to do: keys already in the target need no material and no copy.
    imports = [entry["source"]["id"] for entry in entries if entry["action"] == "import" and not entry["blocker"]
               and entry["status"] == "pending"]
    copies = [entry for entry in entries if entry["action"] == "copy" and not entry["blocker"] and entry["status"] == "pending"]
    if imports:
        follow_ups.insert(0, f"Put the material of the {len(imports)} imported root key(s) in the variable {material_variable} "
                             f"(a dictionary source key id -> base64 material, kept in Ansible Vault): {', '.join(imports)}.")
    if copies:
        follow_ups.append(f"Copy the {len(copies)} standard key(s) with hs_crypto_key_copy (crypto_keys: standard_keys).")
    unsupported = sorted({reg["service"] for regs in registrations.values() for reg in regs if not reg["intent_supported"]})
    for service in unsupported:
        follow_ups.append(f"{INTENT_UNSUPPORTED[service]} ({service}) {RECREATE_ADVICE}.")
    if crkm or crkm_pending:
        follow_ups.append("Grant the services service-to-service authorizations in the target account (delegation for Databases, "
                          "Messages for RabbitMQ, Kubernetes and OpenShift), then run the CRKM tool on the CSV of the crkm rows.")
    follow_ups.extend(policy_follow_ups)

    remaining = {}
    for entry in entries:
        for reg in registrations.get(entry["source"]["id"], []):
            remaining.setdefault(reg["service"], []).append({
                "key_id": entry["source"]["id"], "key_name": entry["source"]["name"], "resource_crn": reg["resource_crn"],
                "intent_supported": reg["intent_supported"], "origin": reg["origin"]})
    ring_counts = []
    for ring in estate["key_rings"]:
        members = [entry for entry in entries if entry["source"]["key_ring"] == ring and entry["source"]["state_code"] != DELETED]
        moved = [entry for entry in members if entry["action"] != "skip"]
        ring_counts.append({"id": ring, "keys": len(members), "moved": len(moved)})

    summary = {"keys": len(entries)}
    for action in ACTIONS:
        summary[action] = sum(1 for entry in entries if entry["action"] == action)
    for status in ("present", "pending", "mismatch", "blocked"):
        summary[status] = sum(1 for entry in entries if entry["status"] == status)
    summary["registrations_left"] = sum(len(items) for items in remaining.values())

    verified = None
    if verify:
        verified = (not blockers and all(entry["status"] == "present" for entry in entries if entry["action"] != "skip")
                    and all(materials.get(entry["source"]["id"]) == "same" for entry in entries if entry["action"] == "copy"))

    plan = {
        "source": source,
        "target": target,
        "keys": keys,
        "key_rings": ring_counts,
        "policy_notes": notes,
        "blockers": list(blockers),
        "follow_ups": follow_ups,
    }
    declaration = {
        "hs_crypto_instance_id": target["instance_id"],
        "hs_crypto_instance_service": "key_protect",
        "hs_crypto_instance_key_rings": [{"id": ring} for ring in rings],
        "hs_crypto_instance_policies": declared_policies,
        "hs_crypto_instance_keys": declared_keys,
    }
    result = {
        "plan": plan,
        "declaration": declaration,
        "standard_keys": standard_keys,
        "crkm": crkm,
        "crkm_pending": crkm_pending,
        "summary": summary,
        "remaining": remaining,
        "verified": verified,
    }
    result["report"] = render_report(result, now, verify)
    return result


# -- the report --------------------------------------------------------------------------------------------------------

def _cell(value):
    if value is None or value == []:
        return "-"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _describe_target(target):
    plan = target.get("plan")
    return f"Key Protect {'Dedicated' if plan == DEDICATED_PLAN else 'Standard'} ({plan})"


def render_report(result, now, verify=False):
    """The plan as Markdown for humans (never any material: the plan holds none)."""
    plan, summary = result["plan"], result["summary"]
    source, target = plan["source"], plan["target"]
    title = "Migration verification" if verify else "Migration plan"
    lines = [f"# {title}: HPCS to Key Protect", "",
             f"- Source: {source['instance_id']} ({source.get('service') or 'hs_crypto'}){' ' + source['crn'] if source.get('crn') else ''}",
             f"- Target: {target['instance_id']}, {_describe_target(target)}",
             # The day only: a re-run the same day that finds the same writes the same file (the step reports no change).
             f"- Date: {now.astimezone(datetime.timezone.utc).strftime('%Y-%m-%d')} (UTC)", ""]
    if verify:
        lines += [f"**Verified: {'yes' if result['verified'] else 'no'}**", ""]
    lines += ["## Summary", "", "| " + " | ".join(summary) + " |", "|" + "---|" * len(summary),
              "| " + " | ".join(str(value) for value in summary.values()) + " |", ""]
    lines += ["## Keys", ""]
    header = ["Name", "Aliases", "Type", "State", "Action", "Status"] + (["Material"] if verify else [])
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in plan["keys"]:
        src = key["source"]
        kind = "imported root" if src["type"] == "root" and src["imported"] else src["type"]
        row = [src["name"], src["aliases"], kind, src["state"], key["action"], key["status"]] + ([key["material"]] if verify else [])
        lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
    mismatched = [key for key in plan["keys"] if key["differences"]]
    if mismatched:
        lines += ["", "Differences of the keys already in the target:", ""]
        for key in mismatched:
            for diff in key["differences"]:
                lines.append(f"- {_cell(key['source']['name'])} ({key['source']['id']}): {diff['field']} expected {_cell(diff['expected'])}, "
                             f"found {_cell(diff['found'])}")
    lines += ["", "## Blockers", ""]
    lines += [f"- {text}" for text in plan["blockers"]] or ["None."]
    lines += ["", "## Policies", "", "| Policy | Action | Reason | Replacement |", "|---|---|---|---|"]
    for note in plan["policy_notes"]:
        lines.append("| " + " | ".join(_cell(note[name]) for name in ("policy", "action", "reason", "replacement")) + " |")
    lines += ["", "## Resources to re-key, by service", ""]
    if result["remaining"]:
        for service, items in sorted(result["remaining"].items()):
            supported = items[0]["intent_supported"]
            label = INTENT_UNSUPPORTED.get(service, service)
            lines.append(f"### {label} ({service}): migration intents {'supported' if supported else 'NOT supported - ' + RECREATE_ADVICE}")
            lines.append("")
            for item in items:
                lines.append(f"- {_cell(item['resource_crn'])} (key {_cell(item['key_name'])}, {item['key_id']})")
            lines.append("")
    else:
        lines += ["None.", ""]
    lines += ["## Follow-ups", ""]
    lines += [f"- {text}" for text in plan["follow_ups"]] or ["None."]
    if verify:
        lines += ["", "## What is left", ""]
        pending = [key for key in plan["keys"] if key["action"] != "skip" and key["status"] != "present"]
        different = [key for key in plan["keys"] if key["material"] in ("different", "missing")]
        if not pending and not different and not result["remaining"] and not plan["blockers"]:
            lines.append("Nothing: every key is in the target and no registration is left on the source.")
        for key in pending:
            lines.append(f"- Key {_cell(key['source']['name'])} ({key['source']['id']}): {key['status']}")
        for key in different:
            lines.append(f"- Standard key {_cell(key['source']['name'])} ({key['source']['id']}): material {key['material']}")
        if result["remaining"]:
            lines.append(f"- {summary['registrations_left']} registration(s) are still on source keys; they move when the services "
                         "act on the CRKM CSV (or when the resources are recreated).")
    return "\n".join(lines) + "\n"


# -- the whole run -----------------------------------------------------------------------------------------------------

def run_plan(source_kms, target_kms, source, target, include_states=(), material_variable=DEFAULT_MATERIAL_VARIABLE, kur=None,
             verify=False, secret=None, now=None):
    """Read both instances (through read-only clients) and build the plan. ``target['plan']`` must be set (or defaulted).

    ``kur``: ``{key_id: {...}}`` from ``load_kur_report``. ``secret(value)`` is called with every payload read in verify
    mode (the module masks them), before it is compared and dropped.
    """
    estate = read_estate(source_kms)
    if kur:
        merge_kur(estate, kur)
    target_keys = read_live_keys(target_kms)
    entries, blockers = match_keys(estate["keys"], target_keys, include_states, target["plan"])
    for entry in entries:
        twin = entry["twin"]
        if twin is not None and twin["type"] == "root" and entry["action"] != "skip":
            apply_key_policies(twin, read_key_policies(target_kms, twin["id"]))
    if source.get("crn") is None:
        source["crn"] = next((instance_crn(key["crn"]) for key in estate["keys"] if instance_crn(key["crn"])), None)
    materials = {}
    if verify:
        for entry in entries:
            if entry["action"] != "copy":
                continue
            key_id = entry["source"]["id"]
            if entry["twin"] is None:
                materials[key_id] = "missing"
                continue
            first = read_payload(source_kms, key_id, "source")
            second = read_payload(target_kms, entry["twin"]["id"], "target")
            for value in (first, second):
                if value is not None and secret is not None:
                    secret(value)
            materials[key_id] = "missing" if first is None or second is None else ("same" if same_material(first, second) else "different")
            first = second = None
    return build_plan(estate, entries, blockers, source, target, include_states, material_variable, now=now, verify=verify,
                      materials=materials)
