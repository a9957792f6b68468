# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Cloud Resource Names: the one place that knows their shape.

``crn:v1:<cname>:<ctype>:<service-name>:<location>:<scope>:<service-instance>:<resource-type>:<resource>``
(https://cloud.ibm.com/docs/account?topic=account-crn). The modules read instance CRNs (``instance_id``) and key
CRNs (``key_id``) with ``parse_instance_id`` and ``parse_key_id``; the ``hs_crypto_crn`` and ``hs_crypto_to_crn``
filters parse and build any CRN with ``parse_crn`` and ``build_crn``, with the same rules for the services of this
collection (``hs-crypto`` and ``kms``: the instance is a GUID, a key is a UUID). Errors are ``ConfigurationError``
naming the option (or filter) and the rule.
"""

import re

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, shown

GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# The service names the CRNs of this collection's services carry (HPCS, Key Protect).
CRN_SERVICES = ("hs-crypto", "kms")
# The segments of a CRN, in order (``account_id`` is the scope without its ``a/``).
SEGMENTS = ("version", "cname", "ctype", "service_name", "region", "scope", "service_instance", "resource_type", "resource")
SCOPE_RE = re.compile(r"^([aos])/([^:\s]+)\Z")
SEGMENT_RE = re.compile(r"^[^:\s]*\Z")
# Fields ``build_crn`` accepts: those ``parse_crn`` returns.
FIELDS = ("crn", "version", "cname", "ctype", "service_name", "region", "account_id", "scope", "service_instance",
          "resource_type", "resource", "instance_id")


class InstanceRef:
    """An instance GUID, with the region and service a CRN carried (None for a bare GUID)."""

    def __init__(self, guid, region=None, service=None):
        self.guid = guid
        self.region = region
        self.service = service


def parse_instance_id(value, option="instance_id"):
    """Accept a GUID or an instance CRN; raise ConfigurationError naming the rule otherwise (a key CRN is not an instance)."""
    text = (value or "").strip()
    if GUID_RE.match(text):
        return InstanceRef(text.lower())
    if text.startswith("crn:"):
        segments = text.split(":")
        # crn:v1:<cname>:<ctype>:<service>:<region>:a/<account>:<instance>:<resource type>:<resource>
        if len(segments) >= 8 and segments[1] == "v1" and segments[4] in CRN_SERVICES and GUID_RE.match(segments[7]):
            if any(segments[8:]):
                raise ConfigurationError(
                    f"{option}: {shown(text)} is the CRN of a {segments[8] or 'resource'} inside instance {segments[7].lower()}, "
                    "not an instance CRN (which ends in '::'); give the instance's GUID or CRN")
            return InstanceRef(segments[7].lower(), region=segments[5] or None, service=segments[4])
        raise ConfigurationError(
            f"{option}: a CRN must look like crn:v1:bluemix:public:hs-crypto:<region>:a/<account>:<instance GUID>:: "
            "(service hs-crypto or kms, 8th segment a GUID)")
    raise ConfigurationError(f"{option} must be an instance GUID (8-4-4-4-12 hexadecimal digits) or an instance CRN")


def parse_key_id(value, option="key_id", alias_option=None):
    """A key UUID, or a key CRN (``crn:...:key:<uuid>``) reduced to its UUID.

    ``alias_option`` is the option that finds a key by alias in the calling module (``alias`` in the single-key
    modules); by default the ``aliases`` next to ``option`` (``crypto_keys[3].key_id`` -> ``crypto_keys[3].aliases``).
    """
    if alias_option is None:
        alias_option = (option[:-len("key_id")] if option.endswith("key_id") else "") + "aliases"
    text = (value or "").strip()
    if text.startswith("crn:"):
        segments = text.split(":")
        if len(segments) == 10 and segments[8] == "key" and GUID_RE.match(segments[9]):
            return segments[9].lower()
        raise ConfigurationError(f"{option}: a key CRN must end in ':key:<key UUID>'")
    if not GUID_RE.match(text):
        raise ConfigurationError(f"{option} must be a key UUID or a key CRN (got {shown(value)}); to find a key by alias use {alias_option}")
    return text.lower()


def key_crn_instance(value):
    """The instance GUID a key CRN names (lower case), or None when ``value`` is not a key CRN."""
    segments = (value or "").strip().split(":") if isinstance(value, str) else []
    if len(segments) == 10 and segments[0] == "crn" and segments[8] == "key":
        return segments[7].lower()
    return None


def parse_crn(value, option="crn"):
    """Any CRN -> its parts (``SEGMENTS`` plus ``crn``, ``account_id`` and ``instance_id``), checked.

    The general rules: a string of 10 colon-separated segments starting ``crn:v1:``, no blanks, cname, ctype and
    service name set, a scope empty or ``a/<account>`` (``o/``, ``s/`` too). For ``hs-crypto`` and ``kms`` CRNs,
    the modules' rules as well: the service instance is a GUID (``instance_id`` is it in lower case), and a key's
    resource is a UUID. ``instance_id`` is the service instance (a GUID lower-cased) for other services.
    """
    if not isinstance(value, str):
        raise ConfigurationError(f"{option} must be a CRN string (got {type(value).__name__})")
    text = value.strip()
    segments = text.split(":")
    if segments[0] != "crn" or len(segments) != 10:
        raise ConfigurationError(
            f"{option}: {shown(text)} is not a CRN: expected 10 segments separated by ':', as in "
            f"crn:v1:bluemix:public:hs-crypto:<region>:a/<account>:<instance GUID>:<resource type>:<resource> (got {len(segments)})")
    parts = dict(zip(SEGMENTS, segments[1:]))
    blank = [name for name, segment in parts.items() if not SEGMENT_RE.match(segment)]
    if blank:
        raise ConfigurationError(f"{option}: the {', '.join(blank)} segment(s) of {shown(text)} contain blanks")
    if parts["version"] != "v1":
        raise ConfigurationError(f"{option}: {shown(text)} has version {shown(parts['version'])}; only CRN version v1 exists")
    missing = [name for name in ("cname", "ctype", "service_name") if not parts[name]]
    if missing:
        raise ConfigurationError(f"{option}: the {', '.join(missing)} segment(s) of {shown(text)} are empty")
    scope = SCOPE_RE.match(parts["scope"])
    if parts["scope"] and not scope:
        raise ConfigurationError(f"{option}: the scope segment of {shown(text)} must be empty or a/<account id> (o/ or s/ for an "
                                 f"organization or space), got {shown(parts['scope'])}")
    if parts["resource_type"] and not parts["resource"]:
        raise ConfigurationError(f"{option}: {shown(text)} names a resource type ({parts['resource_type']}) without a resource")
    instance = parts["service_instance"]
    if parts["service_name"] in CRN_SERVICES:
        if not GUID_RE.match(instance):
            raise ConfigurationError(f"{option}: the service instance of a {parts['service_name']} CRN must be the instance GUID "
                                     f"(8-4-4-4-12 hexadecimal digits), got {shown(instance)}")
        if parts["resource_type"] == "key" and not GUID_RE.match(parts["resource"]):
            raise ConfigurationError(f"{option}: a key CRN must end in ':key:<key UUID>' (got {shown(parts['resource'])})")
    result = {"crn": text}
    result.update(parts)
    result["account_id"] = scope.group(2) if scope and scope.group(1) == "a" else None
    result["instance_id"] = instance.lower() if GUID_RE.match(instance) else instance
    return result


def build_crn(fields, option="hs_crypto_to_crn"):
    """A dictionary of CRN parts (as ``parse_crn`` returns them) -> the CRN string, checked with ``parse_crn``.

    Defaults: ``version`` v1, ``cname`` bluemix, ``ctype`` public. ``service_name``, an account (``account_id``, or
    ``scope``) and the instance (``instance_id`` or ``service_instance``) are required; ``region``, ``resource_type``
    and ``resource`` may be empty. A ``crn`` entry is ignored (so a parsed CRN, changed, can be built again).
    """
    if not isinstance(fields, dict):
        raise ConfigurationError(f"{option} expects a dictionary of CRN parts (got {type(fields).__name__})")
    unknown = sorted(str(k) for k in fields if k not in FIELDS)
    if unknown:
        raise ConfigurationError(f"{option}: unknown part(s) {', '.join(unknown)}; expected {', '.join(f for f in FIELDS if f != 'crn')}")
    values = {}
    for name in FIELDS:
        value = fields.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ConfigurationError(f"{option}: {name} must be a string (got {type(value).__name__})")
        values[name] = value.strip()
    instance, service_instance = values["instance_id"], values["service_instance"]
    if instance and service_instance and instance.lower() != service_instance.lower():
        raise ConfigurationError(f"{option}: instance_id {shown(instance)} and service_instance {shown(service_instance)} differ; give one")
    instance = instance or service_instance
    if not instance:
        raise ConfigurationError(f"{option}: instance_id (or service_instance) is required")
    account = values["account_id"]
    if account.startswith("a/"):
        account = account[2:]
    if account and values["scope"] and values["scope"] != f"a/{account}":
        raise ConfigurationError(f"{option}: account_id {shown(account)} and scope {shown(values['scope'])} differ; give one")
    scope = f"a/{account}" if account else values["scope"]
    if not scope:
        raise ConfigurationError(f"{option}: account_id is required (the account that owns the instance, with or without 'a/')")
    if not values["service_name"]:
        raise ConfigurationError(f"{option}: service_name is required (hs-crypto for HPCS, kms for Key Protect)")
    if values["resource_type"] and not values["resource"]:
        raise ConfigurationError(f"{option}: resource_type {shown(values['resource_type'])} needs a resource (the resource's id)")
    segments = ["crn", values["version"] or "v1", values["cname"] or "bluemix", values["ctype"] or "public", values["service_name"],
                values["region"], scope, instance, values["resource_type"], values["resource"]]
    return parse_crn(":".join(segments), option)["crn"]
