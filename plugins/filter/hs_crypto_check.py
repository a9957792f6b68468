# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``ibm.hs_crypto.hs_crypto_check`` filter: the modules' own input checks, on the controller, before any request.

The hs_crypto_instance role runs several modules in a row (token, discovery, key rings, policies, keys); each
module checks only its own options. This filter runs every check those modules would run - Ansible's argument
specs, then the collection's rules - so that the role refuses bad variables before the first request, and never
applies part of what was declared.
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._instance_policies import POLICY_ARGUMENT_SPEC, PolicySpec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_batch import parse_specs
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_rings import check_ring_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import key_argument_spec
from ansible_collections.ibm.hs_crypto.plugins.module_utils._base import common_argument_spec


def _checked(problems, spec, params, check):
    try:
        result = ArgumentSpecValidator(spec).validate(params)
    except TypeError as exc:  # ansible-core raises on a scalar given for a dict with suboptions
        problems.append(str(exc))
        return
    if result.error_messages:
        problems.extend(result.error_messages)
        return
    try:
        check(result.validated_parameters)
    except ConfigurationError as exc:
        problems.append(str(exc))


def hs_crypto_check(declared):
    """Problems (messages naming the option and the rule) with ``{connection, keys, key_rings, policies}``; [] when none."""
    if not isinstance(declared, dict):
        raise AnsibleFilterError("hs_crypto_check expects a dictionary with connection, keys, key_rings and policies")
    problems = []
    connection = dict((name, value) for name, value in (declared.get("connection") or {}).items() if value is not None)
    _checked(problems, common_argument_spec(), connection, Connection)
    if declared.get("keys"):
        _checked(problems, {"crypto_keys": dict(type="list", elements="dict", options=key_argument_spec())},
                 {"crypto_keys": declared["keys"]}, lambda params: parse_specs(params["crypto_keys"]))
    for index, ring in enumerate(declared.get("key_rings") or []):
        try:
            check_ring_id(ring.get("id") if isinstance(ring, dict) else None, f"hs_crypto_instance_key_rings[{int(index)}].id")
        except ConfigurationError as exc:
            problems.append(str(exc))
    if declared.get("policies"):
        _checked(problems, POLICY_ARGUMENT_SPEC, declared["policies"], PolicySpec.from_params)
    return problems


class FilterModule:
    def filters(self):
        return {"hs_crypto_check": hs_crypto_check}
