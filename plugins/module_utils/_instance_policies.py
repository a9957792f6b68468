# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Instance policies (https://cloud.ibm.com/apidocs/hs-crypto, "Instance policies"): read, compared and written one by one.

The four HPCS types, and Key Protect's ``rotation`` and ``allowedIP`` (which instance has which: ``_services``).
Shared by ``hs_crypto_instance_policy`` and ``hs_crypto_instance_policy_info``.
A policy the service holds no record of counts as disabled. Results and options
use the same flat shape per policy: ``enabled`` plus the policy's attributes.
"""

import copy
import ipaddress

from ansible.module_utils.parsing.convert_bool import BOOLEANS, boolean

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import envelope
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ApiError, ConfigurationError, HsCryptoError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import POLICY_MEDIA_TYPE
from ansible_collections.ibm.hs_crypto.plugins.module_utils._safe_write import SafeWriter
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import COMMON_POLICIES, instance_policies

# option name -> policy_type of the service, in the order results list them.
POLICY_TYPES = (("dual_auth_delete", "dualAuthDelete"), ("allowed_network", "allowedNetwork"),
                ("key_create_import_access", "keyCreateImportAccess"), ("metrics", "metrics"),
                ("rotation", "rotation"), ("allowed_ip", "allowedIP"))
OPTION_OF = dict((service, option) for option, service in POLICY_TYPES)
NETWORKS = ("public-and-private", "private-only")
ACCESS_DEFAULTS = (("create_root_key", True), ("create_standard_key", True), ("import_root_key", True),
                   ("import_standard_key", True), ("enforce_token", False))
ACCESS_ATTRIBUTES = tuple(name for name, dummy in ACCESS_DEFAULTS)
# Attributes each policy carries (besides `enabled`), in result order.
ATTRIBUTES = {"dual_auth_delete": (), "metrics": (), "allowed_network": ("allowed_network",),
              "key_create_import_access": ACCESS_ATTRIBUTES, "rotation": ("interval_month",), "allowed_ip": ("allowed_ip",)}
INTERVAL_MONTHS = (1, 12)
ALLOWED_IP_COUNT = (1, 1000)
RECORD_FIELDS = (("createdBy", "created_by"), ("creationDate", "creation_date"), ("updatedBy", "updated_by"),
                 ("lastUpdated", "last_updated"))

# The options of hs_crypto_instance_policy (its argument spec), also checked by the hs_crypto_check filter for the role.
POLICY_ARGUMENT_SPEC = dict(
    dual_auth_delete=dict(type="bool"),
    allowed_network=dict(type="raw"),
    key_create_import_access=dict(type="dict", no_log=False, options=dict(
        enabled=dict(type="bool"),
        create_root_key=dict(type="bool"),
        create_standard_key=dict(type="bool"),
        import_root_key=dict(type="bool"),
        import_standard_key=dict(type="bool"),
        enforce_token=dict(type="bool", no_log=False),
    )),
    metrics=dict(type="bool"),
    rotation=dict(type="dict", options=dict(
        enabled=dict(type="bool"),
        interval_month=dict(type="int"),
    )),
    allowed_ip=dict(type="dict", options=dict(
        enabled=dict(type="bool"),
        allowed_ip=dict(type="list", elements="str"),
    )),
)


def _bool(value, option):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in BOOLEANS:
        return boolean(value)
    raise ConfigurationError(f"{option} must be true or false (got {shown(value)})")


def _enabled(value, option, fields):
    """Check that a policy dictionary has only ``enabled`` and ``fields``; whether it enables the policy (default yes)."""
    unknown = sorted(set(value) - set(("enabled",) + tuple(fields)))
    if unknown:
        raise ConfigurationError(f"{option}: unknown field(s) {', '.join(unknown)}; expected enabled, {', '.join(fields)}")
    return _bool(value["enabled"], f"{option}.enabled") if value.get("enabled") is not None else True


def parse_allowed_network(value):
    """``public-and-private`` / ``private-only`` (enabled with that network) or ``{enabled, allowed_network}``."""
    if isinstance(value, str):
        if value not in NETWORKS:
            raise ConfigurationError(f"allowed_network must be {' or '.join(NETWORKS)}, or a dictionary with enabled and allowed_network (got {shown(value)})")
        return {"enabled": True, "attributes": {"allowed_network": value}}
    if not isinstance(value, dict):
        raise ConfigurationError(f"allowed_network must be {' or '.join(NETWORKS)}, or a dictionary with enabled and allowed_network")
    enabled = _enabled(value, "allowed_network", ("allowed_network",))
    network = value.get("allowed_network")
    if not enabled:
        if network is not None:
            raise ConfigurationError("allowed_network.allowed_network must not be set when allowed_network.enabled is false "
                                     "(a disabled policy has no attributes; the instance then accepts both networks)")
        return {"enabled": False, "attributes": None}
    if network not in NETWORKS:
        raise ConfigurationError(f"allowed_network.allowed_network must be {' or '.join(NETWORKS)} when the policy is enabled (got {shown(network)})")
    return {"enabled": True, "attributes": {"allowed_network": network}}


def parse_key_create_import_access(value):
    """``{enabled, create_root_key, ...}``: attributes only when enabled (unset ones keep their current value)."""
    enabled = _enabled(value, "key_create_import_access", ACCESS_ATTRIBUTES)
    given = dict((name, _bool(value[name], f"key_create_import_access.{name}"))
                 for name in ACCESS_ATTRIBUTES if value.get(name) is not None)
    if not enabled and given:
        raise ConfigurationError("key_create_import_access: {} must not be set when enabled is false (a disabled policy has "
                                 "no attributes; the service resets them)".format(", ".join(sorted(given))))
    return {"enabled": enabled, "attributes": given if enabled else None}


def parse_rotation(value):
    """``{enabled, interval_month}`` (Key Protect): ``interval_month`` 1..12 is required when enabled, refused when disabled."""
    if not isinstance(value, dict):
        raise ConfigurationError("rotation must be a dictionary with enabled and interval_month")
    enabled = _enabled(value, "rotation", ("interval_month",))
    months = value.get("interval_month")
    if not enabled:
        if months is not None:
            raise ConfigurationError("rotation.interval_month must not be set when rotation.enabled is false (a disabled policy has "
                                     "no attributes)")
        return {"enabled": False, "attributes": None}
    low, high = INTERVAL_MONTHS
    if isinstance(months, bool) or not isinstance(months, int) or not low <= months <= high:
        raise ConfigurationError(f"rotation.interval_month must be a whole number of months from {int(low)} to {int(high)} when the "
                                 f"policy is enabled (got {shown(months)})")
    return {"enabled": True, "attributes": {"interval_month": months}}


def parse_cidr(text, option="allowed_ip.allowed_ip"):
    """One subnet in CIDR notation (IPv4 or IPv6, prefix required, no host bits), as ``ipaddress`` writes it."""
    if not isinstance(text, str) or "/" not in text:
        raise ConfigurationError(f"{option}: {shown(text)} is not in CIDR notation (an address and a prefix length, such as "
                                 "192.0.2.0/24 or 203.0.113.5/32)")
    try:
        network = ipaddress.ip_network(text.strip(), strict=True)
    except ValueError:
        try:
            subnet = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise ConfigurationError(f"{option}: {shown(text)} is not an IPv4 or IPv6 subnet in CIDR notation (such as 192.0.2.0/24)") from None
        raise ConfigurationError(f"{option}: {shown(text)} has host bits set; the subnet is {subnet}") from None
    return str(network)


def parse_allowed_ip(value):
    """``{enabled, allowed_ip}`` (Key Protect): 1 to 1000 distinct CIDR subnets when enabled, none when disabled."""
    if not isinstance(value, dict):
        raise ConfigurationError("allowed_ip must be a dictionary with enabled and allowed_ip (a list of subnets in CIDR notation)")
    enabled = _enabled(value, "allowed_ip", ("allowed_ip",))
    subnets = value.get("allowed_ip")
    if not enabled:
        if subnets:
            raise ConfigurationError("allowed_ip.allowed_ip must not be set when allowed_ip.enabled is false (a disabled policy has "
                                     "no attributes; the instance then accepts requests from any address)")
        return {"enabled": False, "attributes": None}
    low, high = ALLOWED_IP_COUNT
    if not isinstance(subnets, list) or not low <= len(subnets) <= high:
        count = len(subnets) if isinstance(subnets, list) else shown(subnets)
        raise ConfigurationError(f"allowed_ip.allowed_ip must list from {int(low)} to {int(high)} subnets in CIDR notation when the "
                                 f"policy is enabled (got {count})")
    networks = []
    for index, text in enumerate(subnets):
        network = parse_cidr(text, f"allowed_ip.allowed_ip[{int(index)}]")
        if network in networks:
            raise ConfigurationError(f"allowed_ip.allowed_ip[{int(index)}]: the subnet {network} is listed twice")
        networks.append(network)
    return {"enabled": True, "attributes": {"allowed_ip": networks}}


def same_subnets(held, wanted):
    """Whether two subnet lists hold the same subnets, in any order and spelling (``2001:DB8::/32`` = ``2001:db8::/32``)."""
    def canonical(values):
        found = set()
        for value in values or ():
            try:
                found.add(str(ipaddress.ip_network(value.strip(), strict=False)) if isinstance(value, str) else repr(value))
            except ValueError:
                found.add(value)
        return found
    return isinstance(held, list) and len(held) == len(set(held)) and canonical(held) == canonical(wanted)


class PolicySpec:
    """The policies a task sets (option name -> {enabled, attributes}); unset options are absent. Checked before any request."""

    def __init__(self, wanted):
        self.wanted = wanted

    @classmethod
    def from_params(cls, params):
        wanted = {}
        for option in ("dual_auth_delete", "metrics"):
            if params.get(option) is not None:
                wanted[option] = {"enabled": _bool(params[option], option), "attributes": None}
        if params.get("allowed_network") is not None:
            wanted["allowed_network"] = parse_allowed_network(params["allowed_network"])
        if params.get("key_create_import_access") is not None:
            wanted["key_create_import_access"] = parse_key_create_import_access(params["key_create_import_access"])
        if params.get("rotation") is not None:
            wanted["rotation"] = parse_rotation(params["rotation"])
        if params.get("allowed_ip") is not None:
            wanted["allowed_ip"] = parse_allowed_ip(params["allowed_ip"])
        if not wanted:
            raise ConfigurationError("set at least one of dual_auth_delete, allowed_network, key_create_import_access, metrics, "
                                     "rotation (Key Protect) or allowed_ip (Key Protect)")
        return cls(wanted)


def read_policies(kms):
    """The instance's policy records by option name (one request); a policy never set is missing."""
    # A 401 here often means a private-only instance reached on its public endpoint: the module's failure says so.
    resources = kms.request("GET", "instance/policies", context="Reading the instance policies").resources
    records = {}
    for resource in resources:
        policy_type = resource.get("policy_type")
        option = OPTION_OF.get(policy_type) if isinstance(policy_type, str) else None
        if option is not None:
            records[option] = resource
    return records


def read_allowed_ip_port(kms):
    """The private endpoint port of a Key Protect instance whose allowedIP policy is on, or None when it has none."""
    context = "Reading the private endpoint port of the allowed IP policy"
    answer = kms.request("GET", "instance/allowed_ip_port", context=context)
    resource = answer.resource
    if resource is None:
        return None
    port = resource.get("private_endpoint_port")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise answer.malformed("has no private_endpoint_port (a port number)", context)
    return port


def shown_options(service, plan, records, also=()):
    """The policies a result lists: those the instance's service has; when the service is unknown, the four every
    service has, plus any other the instance holds a record of (or the task sets)."""
    options = instance_policies(service, plan)
    if options is None:
        options = tuple(option for option, dummy in POLICY_TYPES if option in COMMON_POLICIES or option in records or option in also)
    return options


def _data(record):
    data = (record or {}).get("policy_data")
    return data if isinstance(data, dict) else {}


def effective(option, record):
    """``{enabled, <attributes>}`` of a record, attribute defaults filled in; attributes null when disabled."""
    data = _data(record)
    enabled = bool(data.get("enabled"))
    attributes = data.get("attributes") if isinstance(data.get("attributes"), dict) else {}
    view = {"enabled": enabled}
    for name in ATTRIBUTES[option]:
        default = dict(ACCESS_DEFAULTS).get(name) if option == "key_create_import_access" else None
        view[name] = attributes.get(name, default) if enabled else None
    return view


def policy_result(option, record):
    """One policy as modules return it: the effective view plus who set it and when (null when never set)."""
    result = effective(option, record)
    for camel, snake in RECORD_FIELDS:
        result[snake] = (record or {}).get(camel)
    return result


def policies_result(records, options=None):
    """The policies as modules return them; ``options`` (default: the four every service has, plus any recorded) selects."""
    options = shown_options(None, None, records) if options is None else options
    return dict((option, policy_result(option, records.get(option))) for option in options)


def managed_view(records, options=None):
    options = shown_options(None, None, records) if options is None else options
    return dict((option, effective(option, records.get(option))) for option in options)


def allowed_ip_enabled(records):
    return effective("allowed_ip", records.get("allowed_ip"))["enabled"]


class InstancePolicyService:
    """Compares the set policies with the instance's and writes only those that differ (``PUT ?policy=<type>``).

    ``service`` and ``plan`` (None when unknown) decide which policies results list; refusing a policy the service does
    not have is the caller's job, before any request (``_services.check_policies``).
    """

    def __init__(self, kms, check_mode=False, sleep=None, service=None, plan=None):
        self.kms = kms
        self.check_mode = check_mode
        self.writer = SafeWriter(kms, sleep=sleep)
        self.service = service
        self.plan = plan

    def converge(self, spec):
        before = read_policies(self.kms)
        predicted = copy.deepcopy(before)
        actions = []
        writes = []
        for option, policy_type in POLICY_TYPES:
            if option not in spec.wanted:
                continue
            data = self._desired(option, spec.wanted[option], before.get(option))
            if data is None:
                continue
            actions.append(f"set_{option}")
            writes.append((policy_type, data))
            record = dict(predicted.get(option) or {"policy_type": policy_type})
            record["policy_data"] = dict(data)
            if not data["enabled"]:
                record["policy_data"].pop("attributes", None)
            for camel in ("updatedBy", "lastUpdated"):
                record[camel] = None
            predicted[option] = record
        warnings = []
        after = predicted
        if writes and not self.check_mode:
            done = []
            for (policy_type, data), action, option in zip(writes, actions, [OPTION_OF[policy_type] for policy_type, dummy in writes]):
                body = envelope(POLICY_MEDIA_TYPE, [{"policy_type": policy_type, "policy_data": data}])
                context = f"Setting the instance policy {policy_type}"

                def shows(option=option):
                    return self._desired(option, spec.wanted[option], read_policies(self.kms).get(option)) is None, None

                try:
                    self.writer.write(lambda body=body, policy_type=policy_type, context=context: self.kms.request(
                        "PUT", "instance/policies", params={"policy": policy_type}, body=body, context=context), shows, context)
                except HsCryptoError as exc:
                    if isinstance(exc, ApiError) and exc.has_code("FEATURE_RESTRICTED_ERR"):
                        exc.message += (f" (the instance does not support the {policy_type} policy; Key Protect Dedicated instances "
                                        "have no allowed network policy)" if policy_type == "allowedNetwork" else
                                        f" (the instance does not support this {policy_type} policy)")
                    if done:  # the policies set before this one are set: say so
                        exc.partial = {"changed": True, "actions": list(done)}
                    raise
                done.append(action)
            try:
                after = read_policies(self.kms)
            except ApiError as exc:
                locked = self._locked_out(predicted)
                if exc.status != 401 or not locked:
                    raise
                warnings.append(f"The instance now accepts requests {locked} only, so the policies could not be read back over "
                                "this connection; the result shows what was set.")
        result = {
            "changed": bool(actions),
            "actions": actions,
            "policies": None,
            "diff": None,
            "warnings": warnings,
        }
        options = shown_options(self.service, self.plan, dict(before, **after), also=tuple(spec.wanted))
        result["policies"] = policies_result(after, options)
        result["diff"] = {"before": managed_view(before, options), "after": managed_view(after, options)}
        if "allowed_ip" in spec.wanted:
            # Where private-endpoint calls must go once the policy is on (the port is known once it is set).
            on = allowed_ip_enabled(after) and (allowed_ip_enabled(before) or not self.check_mode)
            result["allowed_ip_port"] = read_allowed_ip_port(self.kms) if on else None
        return result

    @staticmethod
    def _locked_out(predicted):
        """How the policies just set restrict callers (words for a warning), or None."""
        if effective("allowed_network", predicted.get("allowed_network")).get("allowed_network") == "private-only":
            return "on its private endpoint"
        if allowed_ip_enabled(predicted):
            return "from the allowed IP subnets"
        return None

    @staticmethod
    def _desired(option, wanted, record):
        """The ``policy_data`` to send for ``option``, or None when the instance already has it."""
        held = effective(option, record)
        if not wanted["enabled"]:
            if not held["enabled"]:
                return None
            if option == "allowed_network":
                # The Go client always sends the attribute (a legacy requirement of the service); disabled means both networks.
                return {"enabled": False, "attributes": {"allowed_network": "public-and-private"}}
            return {"enabled": False}
        if option in ("dual_auth_delete", "metrics"):
            return None if held["enabled"] else {"enabled": True}
        if option == "allowed_ip":
            subnets = wanted["attributes"]["allowed_ip"]
            if held["enabled"] and same_subnets(held["allowed_ip"], subnets):
                return None
            # Each write replaces the policy: the complete list goes out.
            return {"enabled": True, "attributes": {"allowed_ip": list(subnets)}}
        attributes = dict(ACCESS_DEFAULTS) if option == "key_create_import_access" else {}
        if held["enabled"]:
            attributes.update((name, held[name]) for name in ATTRIBUTES[option])
        attributes.update(wanted["attributes"] or {})
        if held["enabled"] and all(held[name] == attributes.get(name) for name in ATTRIBUTES[option]):
            return None
        return {"enabled": True, "attributes": attributes}
