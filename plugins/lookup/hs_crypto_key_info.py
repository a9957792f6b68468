# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
name: hs_crypto_key_info
version_added: 0.1.0
short_description: A key's metadata (id, CRN, state, aliases, key ring, dates) where a template needs it
description:
  - Returns the metadata of keys of an HPCS or Key Protect instance, each found by alias, id, CRN or exact name, so a
    template or a task can use a key's CRN (for a storage bucket, a database) without a registered variable.
  - Each term is found as the modules find a key - a key UUID or key CRN by its id (a deleted key too); anything else
    first as an alias (one request), then, when no key has that alias, as an exact name among the live keys (a searched
    listing). Several live keys with the name fail the lookup with their ids (key names are not unique; use an alias
    or the id). A term that is not a valid alias (a name with blanks, for example) is looked up by name only.
  - One or several terms per call; all are checked before the first request, and they share one IAM token and one
    endpoint discovery.
  - B(Never key material.) The lookup has no option that returns a standard key's payload, and its results hold none
    (the service's C(payload) is dropped, as in every module's results); an option such as C(payload) is refused. Reading
    key material is out of the lookup's scope - a template is rendered, shown in diffs and written to files, where
    secrets do not belong.
  - The IAM token and the discovered endpoint are kept in the memory of the process and reused by every term of a call
    and by later lookups in that process with the same sign-in (keyed by the IAM URL and a hash of the credential);
    the token is renewed before it expires and is never written to disk. Ansible runs lookups in the worker process it
    forks for each task and host, so the reuse covers the lookups of one task for one host - each task asks IAM once
    (none when the ibm.hs_crypto.hs_crypto inventory signed in with the same credential and settings before the workers
    were forked - they inherit its token, never its connections).
    To reuse one token across a whole play, get it once with M(ibm.hs_crypto.hs_crypto_iam_token) and give it as
    O(iam_token) (or the C(hs_crypto_iam_token) variable).
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
options:
  _terms:
    description:
      - The keys - aliases (V(payments-root)), key ids, key CRNs, or exact key names.
      - A key CRN names its instance - without O(instance_id) that instance is used; with O(instance_id) it must be the same.
    type: list
    elements: str
    required: true
  on_missing:
    description:
      - What to do when no key matches a term.
      - V(error) - fail the lookup, naming the term.
      - V(warn) - show a warning and leave the term out of the result.
      - V(skip) - leave the term out of the result silently.
      - Errors other than a missing key (a refused token, several keys with the name, a service that does not answer)
        always fail the lookup.
    type: str
    choices: [error, warn, skip]
    default: error
  instance_id:
    description:
      - GUID or CRN of the HPCS (or Key Protect) instance, as for the modules.
      - Not needed when every term is a key CRN.
      - The variable C(hs_crypto_instance_id) is also the O(ibm.hs_crypto.hs_crypto_instance#role:main:hs_crypto_instance_id)
        of the role, and a host variable of the ibm.hs_crypto.hs_crypto inventory, so a lookup in a play over that inventory
        reads the keys of each host's instance.
    type: str
    env:
      - name: HS_CRYPTO_INSTANCE_ID
    vars:
      - name: hs_crypto_instance_id
  region:
    description:
      - Region of the instance, for endpoint discovery through the HPCS broker; as for the modules.
      - When both E(IBMCLOUD_REGION) and E(IC_REGION) are set, E(IBMCLOUD_REGION) is used, as for the modules; the variable
        C(hs_crypto_region) wins over the role's C(hs_crypto_instance_region).
    type: str
    env:
      - name: IC_REGION
      - name: IBMCLOUD_REGION
    vars:
      - name: hs_crypto_instance_region
      - name: hs_crypto_region
  endpoint:
    description:
      - Base URL of the key management API; when set, endpoint discovery is skipped. As for the modules.
    type: str
    env:
      - name: IBMCLOUD_KP_API_ENDPOINT
      - name: HS_CRYPTO_ENDPOINT
    vars:
      - name: hs_crypto_instance_endpoint
      - name: hs_crypto_endpoint
  endpoint_type:
    description:
      - Which endpoint discovery returns for the key management API.
    type: str
    choices: [public, private]
    default: public
    env:
      - name: HS_CRYPTO_ENDPOINT_TYPE
    vars:
      - name: hs_crypto_instance_endpoint_type
      - name: hs_crypto_endpoint_type
  service:
    description:
      - The service of the instance, V(hs_crypto) or V(key_protect) (and the words inventories use), as for the modules;
        when not set, what a CRN names, else what discovery finds.
    type: str
    env:
      - name: HS_CRYPTO_SERVICE
    vars:
      - name: hs_crypto_instance_service
      - name: hs_crypto_service
  broker_url:
    description:
      - Base URL of the HPCS broker used for endpoint discovery; as for the modules.
    type: str
    env:
      - name: IBMCLOUD_HPCS_API_ENDPOINT
      - name: HS_CRYPTO_BROKER_URL
    vars:
      - name: hs_crypto_instance_broker_url
      - name: hs_crypto_broker_url
extends_documentation_fragment:
  - ibm.hs_crypto.controller
notes:
  - Lookups run on the controller - the connection options come from the lookup's arguments, the variables named above,
    or the controller's environment; the play's C(environment) keyword and C(module_defaults) do not reach them.
  - Use C(query) (or C(wantlist=true)) to always get a list, one entry per term found.
seealso:
  - module: ibm.hs_crypto.hs_crypto_key_info
    description: Lists and filters keys, with their policies, versions and registrations.
  - plugin: ibm.hs_crypto.hs_crypto_crn
    plugin_type: filter
    description: The parts of a CRN the lookup returns.
"""

EXAMPLES = r"""
- name: Give another service the CRN of the payments root key (by alias)
  ansible.builtin.debug:
    msg: >-
      kms_key_crn: {{ lookup('ibm.hs_crypto.hs_crypto_key_info', 'payments-root', instance_id=hpcs_instance_id,
                             region='us-south', api_key=ibmcloud_api_key).crn }}

- name: Several keys in one call; keys that do not exist (yet) are left out
  ansible.builtin.set_fact:
    root_key_crns: >-
      {{ query('ibm.hs_crypto.hs_crypto_key_info', 'payments-root', 'orders-root', on_missing='skip',
               instance_id=hpcs_instance_id, region='us-south', api_key=ibmcloud_api_key) | map(attribute='crn') }}

- name: Connection from variables (as module_defaults for modules), here a task's; a key found by its exact name
  vars:
    hs_crypto_instance_id: "{{ hpcs_instance_id }}"
    hs_crypto_region: us-south
    hs_crypto_api_key: "{{ ibmcloud_api_key }}"
    payments_root: "{{ lookup('ibm.hs_crypto.hs_crypto_key_info', 'Payments root key') }}"
  ansible.builtin.assert:
    that:
      - payments_root.state == 'active'
      - payments_root.type == 'root'
      - (payments_root.crn | ibm.hs_crypto.hs_crypto_crn).resource == payments_root.id
"""

RETURN = r"""
_raw:
  description:
    - One entry per term found, in the order of the terms; the same fields as the C(crypto_keys) entries of the
      M(ibm.hs_crypto.hs_crypto_key_info) module. Never key material.
  type: list
  elements: dict
  contains:
    id:
      description: The key's id (UUID).
      type: str
    crn:
      description: The key's CRN.
      type: str
    name:
      description: The key's name.
      type: str
    description:
      description: The key's description.
      type: str
    aliases:
      description: The key's aliases.
      type: list
      elements: str
    key_ring:
      description: The key ring holding the key (V(default) for the default ring).
      type: str
    type:
      description: V(root) or V(standard).
      type: str
    extractable:
      description: Whether the key is a standard key (its material can leave the service).
      type: bool
    state:
      description: V(pre_activation), V(active), V(suspended), V(deactivated) or V(destroyed).
      type: str
    state_code:
      description: The service's number for the state.
      type: int
    enabled:
      description: Whether the key is active.
      type: bool
    creation_date:
      description: When the key was created (RFC 3339).
      type: str
    last_update_date:
      description: When the key last changed.
      type: str
    last_rotate_date:
      description: When the key was last rotated.
      type: str
    expiration_date:
      description: When the key expires, if it does.
      type: str
    imported:
      description: Whether the key's material was imported.
      type: bool
"""

from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.ibm.hs_crypto.plugins.module_utils._crn import GUID_RE, key_crn_instance, parse_key_id
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, HsCryptoError, Redactor
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import ALIAS_RE, check_alias, check_text
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import AmbiguousKeyError, KeyFinder, key_result
from ansible_collections.ibm.hs_crypto.plugins.plugin_utils._connection import (
    CONTROLLER_OPTIONS, INSTANCE_OPTIONS, connect, plugin_options)

display = Display()

ON_MISSING = ("error", "warn", "skip")
NAME = "ibm.hs_crypto.hs_crypto_key_info"


class Term:
    """One term, checked: how it is looked up (``id``, or ``alias`` then ``name``, or ``name``)."""

    def __init__(self, index, value):
        option = f"_terms[{index}]"
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{option} must be a key alias, id, CRN or name (a non-empty string)")
        self.value = value
        self.crn = None
        self.key_id = None
        self.alias = None
        self.name = None
        self.instance = None  # the instance a key CRN names
        text = value.strip()
        if text.startswith("crn:") or GUID_RE.match(text):
            self.key_id = parse_key_id(text, option, alias_option="an alias term")
            self.instance = key_crn_instance(text)
            self.crn = text if self.instance else None
            return
        if ALIAS_RE.match(value):
            try:
                self.alias = check_alias(value, option)
            except ConfigurationError:
                self.alias = None  # a reserved word: a name only
        self.name = check_text(value, option, 2, 90)


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        known = C.config.get_configuration_definitions(self.plugin_type, self._load_name)
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            # Ansible would ignore them: a misspelt on_missing or instance_id must not go unnoticed.
            message = f"{NAME}: unknown option(s) {', '.join(unknown)}; the options are {', '.join(sorted(n for n in known if n != '_terms'))}"
            if any(word in name for name in unknown for word in ("payload", "material", "secret")):
                message += ". The lookup never returns key material"
            raise AnsibleLookupError(message)
        self.set_options(var_options=self._option_variables(variables), direct=kwargs)
        secrets = [kwargs.get("api_key"), kwargs.get("iam_token")]
        try:
            on_missing = self.get_option("on_missing")
            if on_missing not in ON_MISSING:
                raise ConfigurationError(f"on_missing must be one of {', '.join(ON_MISSING)} (got {on_missing!r})")
            options = plugin_options(self, INSTANCE_OPTIONS + CONTROLLER_OPTIONS)
            secrets += [options.get("api_key"), options.get("iam_token")]
            checked = [Term(index, term) for index, term in enumerate(terms)]
            connections = self._connections(checked, options)
            results = []
            for term in checked:
                connection = connections[term.instance or ""]
                raw = self._find(connection, term)
                for warning in connection.warnings:
                    display.warning(warning)
                del connection.warnings[:]
                if raw is None:
                    where = connection.instance.guid
                    message = f"{NAME}: no key with {self._how(term)} {term.value!r} in instance {where}"
                    if on_missing == "error":
                        raise AnsibleLookupError(message + " (on_missing=warn or skip leaves it out)")
                    if on_missing == "warn":
                        display.warning(message)
                    continue
                results.append(key_result(raw))
            return results
        except HsCryptoError as exc:
            message = exc.message
            if exc.correlation_id:
                message += f" (correlation id {exc.correlation_id})"
            raise AnsibleLookupError(f"{NAME}: {Redactor(secrets)(message)}") from None

    def _option_variables(self, variables):
        """The variables that set options (``hs_crypto_api_key``, ...), templated: Ansible hands a lookup its variables
        as they were written (``hs_crypto_iam_url: "{{ my_iam }}"``), and only the lookup knows which it reads."""
        variables = variables or {}
        names = set()
        for definition in C.config.get_configuration_definitions(self.plugin_type, self._load_name).values():
            names.update(entry["name"] for entry in definition.get("vars") or [])
        found = dict((name, variables[name]) for name in names if name in variables)
        if self._templar is not None:
            found = dict((name, self._templar.template(value)) for name, value in found.items())
        return found

    @staticmethod
    def _how(term):
        if term.key_id:
            return "id"
        return "alias or name" if term.alias else "name"

    @staticmethod
    def _connections(terms, options):
        """One connection per instance: the options' instance, and the instance of each key CRN (all checked first)."""
        connections = {}
        given = connect(options) if options.get("instance_id") else None
        for index, term in enumerate(terms):
            if term.instance is None:
                if given is None:
                    raise ConfigurationError(f"instance_id is required to find {term.value!r} (_terms[{index}]): the GUID or CRN "
                                             "of the instance (variable hs_crypto_instance_id, environment HS_CRYPTO_INSTANCE_ID); "
                                             "a key CRN needs none")
                given.require_instance()
                connections[""] = given
            elif given is not None:
                if given.instance.guid != term.instance:
                    raise ConfigurationError(f"_terms[{index}] is the CRN of a key of instance {term.instance}, but instance_id is "
                                             f"{given.instance.guid}: a key CRN must name the instance the lookup talks to")
                connections[term.instance] = given
            elif term.instance not in connections:
                instance_crn = ":".join(term.crn.split(":")[:8]) + "::"
                connection = connect(dict(options, instance_id=instance_crn))
                connection.require_instance()
                connections[term.instance] = connection
        return connections

    @staticmethod
    def _find(connection, term):
        finder = KeyFinder(connection.kms)
        if term.key_id:
            return finder.get(term.key_id, context=f"Reading key {term.key_id}")
        if term.alias:
            found = finder.get(term.alias, context=f"Reading the key with alias {term.alias}")
            if found is not None:
                return found
        try:
            return finder.one_named(term.name)
        except AmbiguousKeyError as exc:
            raise AmbiguousKeyError(str(exc).replace("set key_id or aliases to say which one", "look the key up by its id, CRN or an alias")) from None
