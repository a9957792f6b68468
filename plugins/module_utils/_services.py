# -*- coding: utf-8 -*-
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""What differs between the services the collection serves, in one table (docs/design-choices.md, "Services").

HPCS, Key Protect Standard (plans ``tiered-pricing`` and ``cross-region-resiliency``) and Key Protect Dedicated
(plan ``dedicated``) serve the same key management API (``/api/v2``). They differ in the service name their
CRNs carry, in how their endpoints are found, in the instance policies they have and in what Dedicated lacks
(https://cloud.ibm.com/docs/key-protect, "Unsupported features" of Dedicated instances). Modules ask this table;
no module branches on a service name of its own.
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError

HPCS = "hs_crypto"
KEY_PROTECT = "key_protect"
DEDICATED_PLAN = "dedicated"

# The ``service`` option's values and the service name their CRNs carry.
CRN_NAME = {HPCS: "hs-crypto", KEY_PROTECT: "kms"}
SERVICE_OF_CRN_NAME = {crn: service for service, crn in CRN_NAME.items()}
DISPLAY_NAME = {HPCS: "Hyper Protect Crypto Services", KEY_PROTECT: "Key Protect"}
# What users write in inventories for the service, mapped to the option's value.
SERVICE_ALIASES = {
    "hs_crypto": HPCS, "hs-crypto": HPCS, "hpcs": HPCS, "hyper_protect_crypto_services": HPCS,
    "key_protect": KEY_PROTECT, "key-protect": KEY_PROTECT, "keyprotect": KEY_PROTECT, "kms": KEY_PROTECT, "kp": KEY_PROTECT,
}

# Instance policies (option of hs_crypto_instance_policy -> the service's policy_type), per service.
COMMON_POLICIES = ("dual_auth_delete", "allowed_network", "key_create_import_access", "metrics")
KEY_PROTECT_POLICIES = COMMON_POLICIES + ("rotation", "allowed_ip")
INSTANCE_POLICIES = {HPCS: COMMON_POLICIES, KEY_PROTECT: KEY_PROTECT_POLICIES}

# Features a Key Protect Dedicated instance does not have (and the words messages use for them).
DEDICATED_UNSUPPORTED = {
    "import_token": "import tokens (secure import); a plain import over TLS works",
    "allowed_network": "the allowed network policy (use context-based restrictions)",
}


def normalize_service(value, option="service"):
    """The ``service`` option's value for what a user wrote (``hpcs``, ``kms``, ``key-protect``...), or None."""
    if value is None or value == "":
        return None
    found = SERVICE_ALIASES.get(str(value).strip().lower().replace(" ", "_"))
    if found is None:
        raise ConfigurationError(f"{option} must name HPCS (hs_crypto, hpcs, hs-crypto) or Key Protect (key_protect, kms, "
                                 f"key-protect); got {value!r}")
    return found


def describe(service, plan=None):
    """``Key Protect Dedicated``, ``Key Protect (tiered-pricing)``, ``Hyper Protect Crypto Services``."""
    name = DISPLAY_NAME.get(service, service or "an unknown service")
    if plan == DEDICATED_PLAN:
        return f"{name} Dedicated"
    return f"{name} ({plan})" if plan and service == KEY_PROTECT else name


def check_policies(service, plan, options, instance_guid=None):
    """Refuse instance policies the instance's service (or Dedicated) does not have, naming the service.

    ``service`` None means unknown (an explicit endpoint with nothing else to tell): nothing is refused here and
    the service answers for itself.
    """
    if service is None:
        return
    where = f"instance {instance_guid}" if instance_guid else "the instance"
    missing = [option for option in options if option not in INSTANCE_POLICIES[service]]
    if missing:
        raise ConfigurationError(f"{', '.join(missing)}: {where} is a {describe(service, plan)} instance, which has no such "
                                 f"instance policy (Key Protect only: {', '.join(sorted(set(KEY_PROTECT_POLICIES) - set(COMMON_POLICIES)))})")
    check_feature(service, plan, [option for option in options if option in DEDICATED_UNSUPPORTED], instance_guid)


def check_feature(service, plan, features, instance_guid=None):
    """Refuse what a Key Protect Dedicated instance does not support, before any request."""
    if plan != DEDICATED_PLAN:
        return
    for feature in features:
        if feature in DEDICATED_UNSUPPORTED:
            where = f"instance {instance_guid}" if instance_guid else "the instance"
            raise ConfigurationError(f"{where} is a Key Protect Dedicated instance, which does not support "
                                     f"{DEDICATED_UNSUPPORTED[feature]}")


# Features only a Key Protect Dedicated instance has (and the words messages use for them).
DEDICATED_ONLY = {
    "crypto_units": "crypto units (GET /api/v1/cryptounits)",
}


def of_connection(connection):
    """``(service, plan)`` of the connection's instance, each None when unknown; read after ``connection.kms``.

    ``known_service`` and ``plan`` come from discovery (the instance CRN, ``service``, the Resource Controller's
    record). A connection without them (older code) falls back on what the options say: ``service`` or the CRN.
    """
    if hasattr(connection, "known_service"):
        return getattr(connection, "known_service", None), getattr(connection, "plan", None)
    options = getattr(connection, "options", None) or {}
    instance = getattr(connection, "instance", None)
    named = SERVICE_OF_CRN_NAME.get(getattr(instance, "service", None)) if instance is not None else None
    try:
        return normalize_service(options.get("service")) or named, None
    except ConfigurationError:
        return named, None


def instance_policies(service, plan=None):
    """The instance policies (option names) an instance of ``service`` and ``plan`` has, in table order; None when unknown."""
    if service is None:
        return None
    options = INSTANCE_POLICIES[service]
    if plan == DEDICATED_PLAN:
        options = tuple(option for option in options if option not in DEDICATED_UNSUPPORTED)
    return options


def check_dedicated_only(service, plan, feature, instance_guid=None):
    """Refuse a Dedicated-only feature on an instance known to be something else, before any request.

    HPCS is never Dedicated; a Key Protect instance whose plan is unknown (or an unknown service) is let through and
    the service answers for itself.
    """
    if service is None or plan == DEDICATED_PLAN or (service == KEY_PROTECT and plan is None):
        return
    where = f"instance {instance_guid}" if instance_guid else "the instance"
    raise ConfigurationError(f"{where} is a {describe(service, plan)} instance; only Key Protect Dedicated instances have "
                             f"{DEDICATED_ONLY[feature]}")
