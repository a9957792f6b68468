# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``ibm.hs_crypto.hs_crypto_check`` filter: the modules' own input checks, on the controller, before any request.

The hs_crypto_instance role runs several modules in a row (token, discovery, key rings, policies, keys); each
module checks only its own options. This filter runs every check those modules would run - Ansible's argument
specs, then the collection's rules - so that the role refuses bad variables before the first request, and never
applies part of what was declared.

Every problem is reported, not the first one only, and in the terms of the user who declared the data: the role's
variable, the entry's index and the key it declares (``hs_crypto_instance_keys[2] (payments-root).aliases``), not
the option of the module the role passes it to (``crypto_keys[0].aliases``).
"""

import copy
import os
import re
from collections.abc import Mapping

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import POLICY_ARGUMENT_SPEC, PolicySpec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_batch import parse_specs
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_rings import check_ring_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import key_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._kmip import AdapterSpec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import common_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._workers import concurrency_of

# What messages call each part of the input: the hs_crypto_instance role's variables, unless the input's `names` says otherwise.
DEFAULT_NAMES = {"keys": "hs_crypto_instance_keys", "shared_keys": "hs_crypto_instance_shared_keys",
                 "key_rings": "hs_crypto_instance_key_rings", "policies": "hs_crypto_instance_policies",
                 "connection": "hs_crypto_instance_"}


def plain(value):
    """``value`` as plain Python data, read once.

    ansible-core 2.19 hands filters lazily templated containers: every read of an item templates it again, and the
    argument spec validation reads the declaration many times over, so 1,000 keys cost minutes. One copy first
    makes every later read a plain one.
    """
    if isinstance(value, Mapping):
        return {str(key) if isinstance(key, str) else key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def _validated(spec, params, where, problems):
    """Ansible's argument-spec check of ``params``; the validated parameters, or None after adding the problems."""
    try:
        result = ArgumentSpecValidator(spec).validate(params)
    except TypeError as exc:  # ansible-core raises on a scalar given for a dict with suboptions
        problems.append(f"{where}: {exc}")
        return None
    if not result.error_messages:
        return result.validated_parameters
    for error in result.errors:
        if isinstance(error, UnsupportedError):
            problems.append(f"{where}: unknown option(s) {error.msg}")
        else:
            problems.append(f"{where}: {error.msg}")
    return None


def _connection_namer(prefix):
    """A function that writes a message about connection options with the user's names for them (``timeout`` ->
    ``hs_crypto_instance_timeout``, ``instance_id`` -> ``hs_crypto_instance_id``)."""
    options = sorted(common_argument_spec(), key=len, reverse=True)
    names = dict((option, prefix + (option[len("instance_"):] if option.startswith("instance_") else option)) for option in options)
    # Options whose name has an underscore are replaced wherever they stand; one-word options (region, endpoint, ...)
    # only where a message uses them as a name: at its start, quoted, or before "=".
    pattern = re.compile(r"(?<![\w.])(%s)(?![\w])|^(%s)\b|'(%s)'|\b(%s)(?==)" % tuple(
        "|".join(re.escape(option) for option in group) for group in (
            [option for option in options if "_" in option], options, options, options)))

    def rename(message):
        def replace(match):
            option = next(group for group in match.groups() if group)
            text = names[option]
            return f"'{text}'" if match.group(0).startswith("'") else text
        return pattern.sub(replace, message)
    return rename


def entry_name(name, index, entry):
    """``hs_crypto_instance_keys[2] (payments-root)``: the variable, the index, and the key the entry declares (its name,
    else its first alias, else its key_id)."""
    text = f"{name}[{int(index)}]"
    if isinstance(entry, dict):
        aliases = entry.get("aliases")
        shown_as = entry.get("name") or (aliases[0] if isinstance(aliases, list) and aliases else None) or entry.get("key_id")
        if isinstance(shown_as, str) and shown_as:
            text += f" ({shown_as})"
    return text


def _connection_problems(params):
    """Every problem of the connection options: Connection stops at its first, so each option is also checked alone."""
    found = []
    for options in [params] + [{option: value} for option, value in params.items()]:
        try:
            Connection(dict(options))
        except ConfigurationError as exc:
            if str(exc) not in found:
                found.append(str(exc))
    return found


def _check_keys(entries, name, problems):
    """Each entry: the key module's argument spec, then the collection's rules (all problems of all entries), then that no
    two entries the argument spec accepted designate one key."""
    if not isinstance(entries, list):
        problems.append(f"{name} must be a list of keys (got {type(entries).__name__})")
        return
    accepted, names = [], []
    for index, entry in enumerate(entries):
        where = entry_name(name, index, entry)
        if not isinstance(entry, dict):
            problems.append(f"{where} must be a dictionary with the options of ibm.hs_crypto.hs_crypto_key (got {type(entry).__name__})")
            continue
        checked = _validated(key_argument_spec(), entry, where, problems)
        if checked is not None:
            accepted.append(checked)
            names.append(where)
    parse_specs(accepted, names=names, problems=problems)


# The role whose variables `role_variables` holds; its argument spec is read from the collection itself.
ROLE_ARGUMENT_SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "hs_crypto_instance", "meta", "argument_specs.yml")
ROLE_PREFIX = "hs_crypto_instance_"


def _role_spec():
    """The options of the role's entry point ``main``, in the form ArgumentSpecValidator takes (documentation removed);
    the key lists without their suboptions, as each key entry is checked on its own (with its index and name)."""
    with open(ROLE_ARGUMENT_SPECS, encoding="utf-8") as handle:
        options = copy.deepcopy(yaml.safe_load(handle)["argument_specs"]["main"]["options"])

    def strip(spec):
        for option in spec.values():
            option.pop("description", None)
            if "options" in option:
                strip(option["options"])
        return spec

    strip(options)
    for name in ("hs_crypto_instance_keys", "hs_crypto_instance_shared_keys"):
        options[name].pop("options", None)
    return options


def _from_role_variables(variables, problems):
    """The filter's input built from the role's variables (``hs_crypto_instance_*``). Each variable is first checked
    against the role's own argument spec - the check ansible-core runs when the role starts - on its own, so that one
    bad variable does not hide the problems of the others; the rules are then checked for the variables it accepted."""
    spec = _role_spec()
    valid = {}
    for name, option in spec.items():
        value = variables.get(name)
        if value is None:
            if option.get("required"):
                problems.append(f"missing required arguments: {name}")
            continue
        result = ArgumentSpecValidator({name: option}).validate({name: value}, validate_role_argument_spec=True)
        problems.extend(error.msg for error in result.errors)
        if not result.error_messages:
            valid[name] = result.validated_parameters[name]
    for index, entry in enumerate(valid.get(ROLE_PREFIX + "kmip_adapters") or []):
        where = f"{ROLE_PREFIX}kmip_adapters[{int(index)}]" + (f" ({entry.get('name')})" if isinstance(entry.get("name"), str) else "")
        try:
            AdapterSpec(dict(entry, state=entry.get("state") or "present"))
        except ConfigurationError as exc:
            problems.append(f"{where}.{exc}")
    if valid.get(ROLE_PREFIX + "concurrency") is not None:
        try:
            concurrency_of(valid, option=ROLE_PREFIX + "concurrency")
        except ConfigurationError as exc:
            problems.append(str(exc))
    connection = dict((option, valid.get(ROLE_PREFIX + (option[len("instance_"):] if option.startswith("instance_") else option)))
                      for option in common_argument_spec())
    return {"connection": connection, "keys": valid.get(ROLE_PREFIX + "keys"), "shared_keys": valid.get(ROLE_PREFIX + "shared_keys"),
            "key_rings": valid.get(ROLE_PREFIX + "key_rings"),
            "policies": dict((name, value) for name, value in (valid.get(ROLE_PREFIX + "policies") or {}).items() if value is not None)}


def hs_crypto_check(declared):
    """Problems (messages naming the variable or option and the rule) with ``{connection, keys, shared_keys, key_rings,
    policies}``; [] when there is none."""
    if not isinstance(declared, dict):
        raise AnsibleFilterError("hs_crypto_check expects a dictionary with connection, keys, shared_keys, key_rings and policies")
    declared = plain(declared)
    names = dict(DEFAULT_NAMES, **(declared.get("names") or {}))
    problems = []
    if "role_variables" in declared:
        declared = _from_role_variables(declared["role_variables"] or {}, problems)
    connection = dict((name, value) for name, value in (declared.get("connection") or {}).items() if value is not None)
    connection_problems = []
    params = _validated(common_argument_spec(), connection, "connection", connection_problems)
    if params is not None:
        connection_problems.extend(_connection_problems(params))
    rename = _connection_namer(names["connection"])
    problems.extend(rename(message[len("connection: "):] if message.startswith("connection: ") else message)
                    for message in connection_problems)
    for part in ("shared_keys", "keys"):
        if declared.get(part):
            _check_keys(declared[part], names[part], problems)
    rings = declared.get("key_rings") or []
    for index, ring in enumerate(rings if isinstance(rings, list) else []):
        try:
            check_ring_id(ring.get("id") if isinstance(ring, dict) else None, f"{names['key_rings']}[{int(index)}].id")
        except ConfigurationError as exc:
            problems.append(str(exc))
    if declared.get("policies"):
        params = _validated(POLICY_ARGUMENT_SPEC, declared["policies"], names["policies"], problems)
        if params is not None:
            try:
                PolicySpec.from_params(params)
            except ConfigurationError as exc:
                problems.append(f"{names['policies']}: {exc}")
    return problems


class FilterModule:
    def filters(self):
        return {"hs_crypto_check": hs_crypto_check}
