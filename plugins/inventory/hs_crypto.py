# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r"""
name: hs_crypto
short_description: Every HPCS and Key Protect instance of an IBM Cloud account as an inventory host
version_added: 0.1.0
description:
  - Lists the Hyper Protect Crypto Services, Key Protect Standard, cross-region and Dedicated instances of the account of
    the identity signed in, through the IBM Cloud Resource Controller (C(GET /v2/resource_instances), every page), and
    makes one inventory host of each.
  - The host variables are the input of the role P(ibm.hs_crypto.hs_crypto_instance#role) (C(hs_crypto_instance_id),
    C(hs_crypto_instance_region), C(hs_crypto_instance_service)), so C(ansible-playbook ibm.hs_crypto.provision) runs over
    this inventory unchanged; plus what the Resource Controller tells of the instance (see the Host variables section of
    the collection's inventory guide).
  - "Host variables: C(hs_crypto_instance_id) (the GUID), C(hs_crypto_instance_region), C(hs_crypto_instance_service)
    (V(hs_crypto) or V(key_protect)), C(hs_crypto_instance_kms_endpoints) (C(public) and C(private) key management URLs,
    null when only the HPCS broker knows them), C(hs_crypto_instance_plan) (V(dedicated), V(tiered-pricing) or the plan id
    when the collection does not know its name), C(hs_crypto_instance_plan_id), C(hs_crypto_instance_resource_group_id),
    C(hs_crypto_instance_crn), C(hs_crypto_instance_state), C(hs_crypto_instance_name), C(hs_crypto_instance_tags) (with
    O(read_tags=true)), C(ansible_connection=local); and, with O(endpoint_type), C(hs_crypto_instance_endpoint_type) and
    C(hs_crypto_instance_endpoint)."
  - "Host names: the instance name with every character other than letters, digits, C(_), C(.) and C(-) replaced by
    C(-) (runs of them by one), without leading or trailing C(-) or C(.) (the GUID when nothing is left). When two or
    more instances give the same name, each of them is named C(<name>-<first 8 characters of its GUID>) instead, so no
    instance keeps the plain name and the result does not depend on the order of the listing; if that still collides,
    C(<name>-<GUID>)."
  - "Requests: one IAM token for the whole listing, one request per page of 100 instances per state and resource group
    listed, and with O(read_tags=true) one Global Tagging request per instance. With the cache on, a cache hit sends none."
  - Every option is checked before the first request; a bad one fails naming the option and the rule.
  - The inventory file's name must end in C(hs_crypto.yml) or C(hs_crypto.yaml).
author:
  - ibm.hs_crypto contributors (@ibm-hs-crypto)
extends_documentation_fragment:
  - ibm.hs_crypto.controller
  - constructed
  - inventory_cache
options:
  plugin:
    description: The name of this plugin; it marks the file as an inventory of this plugin.
    type: str
    required: true
    choices: [ibm.hs_crypto.hs_crypto]
  services:
    description:
      - Which services' instances to list - V(hs_crypto) (Hyper Protect Crypto Services) and V(key_protect) (Key Protect
        Standard, cross-region and Dedicated).
      - The words the modules' O(ibm.hs_crypto.hs_crypto_key#module:service) option accepts are accepted too
        (V(hpcs), V(hs-crypto), V(kms), V(key-protect), V(kp), ...).
    type: list
    elements: str
    default: [hs_crypto, key_protect]
  regions:
    description: Only instances in these regions (for example V(us-south)); every region when empty.
    type: list
    elements: str
    default: []
  resource_groups:
    description:
      - Only instances in these resource groups, by resource group id (32 hexadecimal digits); every group when empty.
      - The Resource Controller is asked once per group (C(resource_group_id)).
    type: list
    elements: str
    default: []
  plans:
    description:
      - Only instances of these plans, by name (V(dedicated), V(tiered-pricing)) or by plan id; every plan when empty.
    type: list
    elements: str
    default: []
  instance_names:
    description:
      - Only instances whose name matches one of these shell-style patterns (C(fnmatch), case-sensitive), for example
        V(payments-*); every instance when empty.
    type: list
    elements: str
    default: []
  states:
    description:
      - Only instances in these Resource Controller states. The Resource Controller is asked once per state.
    type: list
    elements: str
    choices: [active, inactive, failed, pending_reclamation, provisioning, pre_provisioning, removed]
    default: [active]
  read_tags:
    description:
      - "Whether to read each instance's user tags from IBM Cloud Global Tagging (C(GET /v3/tags?attached_to=<CRN>&providers=ghost)),
        one request per instance, into C(hs_crypto_instance_tags), so that O(keyed_groups) can make groups of them
        (C(env:prod) becomes C(tag_env_prod) with C(prefix: tag))."
    type: bool
    default: false
  tagging_url:
    description:
      - Base URL of IBM Cloud Global Tagging, used with O(read_tags=true).
      - If not set, V(https://tags.global-search-tagging.cloud.ibm.com).
    type: str
    env:
      - name: HS_CRYPTO_TAGGING_URL
  endpoint_type:
    description:
      - When set, each host also gets C(hs_crypto_instance_endpoint_type) and, when the Resource Controller's record gives
        it, C(hs_crypto_instance_endpoint) (the key management URL of that type), so that the role skips endpoint
        discovery (one request less per instance and run).
      - When not set, the role discovers the endpoint itself, as for an instance written by hand.
    type: str
    choices: [public, private]
  group:
    description:
      - A group every host is put in. The default is the group C(ibm.hs_crypto.provision) runs over.
      - Empty for none.
    type: str
    default: hpcs_instances
notes:
  - Credentials are never written to the cache; the cache holds the instances as listed (and their tags). The cache key
    is made of the inventory file's path and the options that choose the instances, not of the credentials, so after
    switching to another account's credentials with the same file, run with C(--flush-cache).
  - "The API key may be a vault-encrypted value in the inventory file (C(api_key: !vault |...)), or come from the environment."
"""

EXAMPLES = r"""
# inventory/prod.hs_crypto.yml: every active HPCS and Key Protect instance of the account, grouped by service, region and
# tag; the API key comes from IBMCLOUD_API_KEY (or a vault-encrypted api_key here).
plugin: ibm.hs_crypto.hs_crypto
read_tags: true
keyed_groups:
  - key: hs_crypto_instance_service
    prefix: service
  - key: hs_crypto_instance_region
    prefix: region
  - key: hs_crypto_instance_tags
    prefix: tag

# ---
# inventory/payments.hs_crypto.yml: the HPCS instances named payments-* in two regions, by their private endpoint,
# cached for an hour.
#
# plugin: ibm.hs_crypto.hs_crypto
# services: [hpcs]
# regions: [us-south, eu-de]
# instance_names: ['payments-*']
# endpoint_type: private
# groups:
#   dedicated: hs_crypto_instance_plan == 'dedicated'
# compose:
#   hs_crypto_instance_report: "false"  # an expression: no summary line per instance
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/ansible/hs_crypto
# cache_timeout: 3600
"""

import fnmatch
import hashlib
import json
import re
from urllib.parse import urlencode, urlsplit

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import error_from_response
from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import check_url
from ansible_collections.ibm.hs_crypto.plugins.module_utils._discovery import (
    KNOWN_REGIONS, RESOURCE_CONTROLLER_URL, InstanceRecord, key_protect_endpoints)
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import HsCryptoError, shown
from ansible_collections.ibm.hs_crypto.plugins.module_utils._services import KEY_PROTECT, normalize_service
from ansible_collections.ibm.hs_crypto.plugins.plugin_utils._connection import CONTROLLER_OPTIONS, connect, plugin_options

TAGGING_URL = "https://tags.global-search-tagging.cloud.ibm.com"
PAGE_SIZE = 100
MAX_PAGES = 10000
RESOURCE_GROUP_RE = re.compile(r"^[0-9a-f]{32}\Z")
UNSAFE_HOSTNAME_RE = re.compile(r"[^A-Za-z0-9_.-]+")


def sanitize_hostname(name, guid):
    """The host name an instance name gives (see DOCUMENTATION, "Host names")."""
    text = UNSAFE_HOSTNAME_RE.sub("-", name if isinstance(name, str) else "").strip("-.")
    return text or guid


def hostnames(instances):
    """``{guid: host name}`` for ``instances`` (dicts with ``guid`` and ``name``): collision-free and independent of order."""
    base = dict((item["guid"], sanitize_hostname(item["name"], item["guid"])) for item in instances)
    counts = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    names = dict((guid, f"{name}-{guid[:8]}" if counts[name] > 1 else name) for guid, name in base.items())
    counts = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    for guid, name in names.items():
        if counts[name] > 1 and name != base[guid]:
            names[guid] = f"{base[guid]}-{guid}"
    return names


def host_vars(item, endpoint_type=None):
    """The host variables of a listed instance (a dict as ``_instance`` makes it)."""
    hostvars = {
        "ansible_connection": "local",
        "hs_crypto_instance_id": item["guid"],
        "hs_crypto_instance_region": item["region"],
        "hs_crypto_instance_service": item["service"],
        "hs_crypto_instance_kms_endpoints": dict(item["kms_endpoints"]),
        "hs_crypto_instance_plan": item["plan"],
        "hs_crypto_instance_plan_id": item["plan_id"],
        "hs_crypto_instance_resource_group_id": item["resource_group_id"],
        "hs_crypto_instance_crn": item["crn"],
        "hs_crypto_instance_state": item["state"],
        "hs_crypto_instance_name": item["name"],
    }
    if item.get("tags") is not None:
        hostvars["hs_crypto_instance_tags"] = list(item["tags"])
    if endpoint_type:
        hostvars["hs_crypto_instance_endpoint_type"] = endpoint_type
        if item["kms_endpoints"].get(endpoint_type):
            hostvars["hs_crypto_instance_endpoint"] = item["kms_endpoints"][endpoint_type]
    return hostvars


def _instance(raw):
    """What the inventory keeps of a Resource Controller record (what the cache holds); None when not HPCS or Key Protect.

    Service, region, plan and endpoints are read as ``hs_crypto_endpoint_info`` reads them (InstanceRecord)."""
    record = InstanceRecord(raw)
    guid = raw.get("guid") if isinstance(raw.get("guid"), str) else None
    if record.service is None or not guid or not record.region:
        return None
    endpoints = record.endpoints()
    if endpoints is None and record.service == KEY_PROTECT and record.plan != "dedicated":
        endpoints = key_protect_endpoints(record.region) if record.region in KNOWN_REGIONS else None
    kms = endpoints["kms"] if endpoints else {"public": None, "private": None}
    return {
        "guid": guid.lower(), "name": record.name if isinstance(record.name, str) else guid, "crn": record.crn,
        "region": record.region, "service": record.service, "plan": record.plan or record.plan_id, "plan_id": record.plan_id,
        "resource_group_id": raw.get("resource_group_id"), "state": raw.get("state"), "kms_endpoints": kms,
    }


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "ibm.hs_crypto.hs_crypto"

    def verify_file(self, path):
        if super().verify_file(path):
            return path.endswith(("hs_crypto.yml", "hs_crypto.yaml"))
        return False

    # -- options, checked before any request ---------------------------------------------------------------
    def _selection(self):
        """The options that choose the instances, checked (AnsibleParserError naming the option and the rule)."""
        selection = {}
        try:
            selection["services"] = sorted(set(normalize_service(value, option="services") for value in self._list("services")))
        except HsCryptoError as exc:
            raise AnsibleParserError(to_native(exc)) from None
        if not selection["services"]:
            raise AnsibleParserError("services must name at least one service (hs_crypto, key_protect)")
        regions = self._list("regions")
        unknown = [region for region in regions if region not in KNOWN_REGIONS]
        if unknown:
            raise AnsibleParserError(f"regions: {', '.join(shown(region) for region in unknown)} is not a known IBM Cloud region; "
                                     f"expected some of {', '.join(KNOWN_REGIONS)}")
        selection["regions"] = sorted(set(regions))
        groups = self._list("resource_groups")
        bad = [group for group in groups if not RESOURCE_GROUP_RE.match(group)]
        if bad:
            raise AnsibleParserError(f"resource_groups: {shown(bad[0])} is not a resource group id (32 lower-case hexadecimal digits, "
                                     "as `ibmcloud resource groups` shows under ID)")
        selection["resource_groups"] = sorted(set(groups))
        selection["plans"] = sorted(set(self._list("plans")))
        selection["instance_names"] = self._list("instance_names")
        states = self._list("states")
        allowed = ("active", "inactive", "failed", "pending_reclamation", "provisioning", "pre_provisioning", "removed")
        bad = [state for state in states if state not in allowed]
        if bad or not states:
            raise AnsibleParserError(f"states must be a non-empty list of {', '.join(allowed)}"
                                     + (f" (got {shown(bad[0])})" if bad else ""))
        selection["states"] = sorted(set(states))
        selection["read_tags"] = bool(self.get_option("read_tags"))
        for option, default in (("resource_controller_url", RESOURCE_CONTROLLER_URL), ("tagging_url", TAGGING_URL)):
            try:
                selection[option] = check_url(self.get_option(option) or default, option)
            except HsCryptoError as exc:
                raise AnsibleParserError(to_native(exc)) from None
        return selection

    def _list(self, option):
        value = self.get_option(option)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise AnsibleParserError(f"{option} must be a list of non-empty strings")
        return [item.strip() for item in value]

    def _connection(self, selection):
        """The collection's client for controller plugins (plugin_utils/_connection.py over module_utils: one IAM token for the
        whole listing); an option it refuses is named, before any request."""
        options = plugin_options(self, CONTROLLER_OPTIONS)
        options["resource_controller_url"] = selection["resource_controller_url"]
        try:
            return connect(options)  # checks the options; sends nothing
        except HsCryptoError as exc:
            raise AnsibleParserError(to_native(exc)) from None

    @staticmethod
    def _require_credentials(connection):
        """A way to sign in: an API key, a token, or a trusted profile (when the connection options have them)."""
        if connection.auth_type is None:
            raise AnsibleParserError("api_key or iam_token is required (IBMCLOUD_API_KEY or IC_API_KEY in the environment, or api_key "
                                     "in the inventory file, vault-encrypted), or a trusted profile where the options offer one")

    # -- requests -----------------------------------------------------------------------------------------
    def _get(self, connection, url, what):
        try:
            response = connection.sender.send("GET", url, headers={"Accept": "application/json"})
            if not response.ok:
                raise error_from_response(response, redact=connection.redact, context=what)
            body = response.json()
        except HsCryptoError as exc:
            raise AnsibleError(connection.redact(to_native(exc))) from None
        if not isinstance(body, dict):
            raise AnsibleError(f"{what}: the answer is not a JSON object")
        return body

    def _next_url(self, rc_url, next_url):
        """The absolute URL of the next page: a path on the Resource Controller (never another host, the token goes with it)."""
        if next_url.startswith("/"):
            return rc_url + next_url
        if urlsplit(next_url).netloc != urlsplit(rc_url).netloc:
            raise AnsibleError(f"The Resource Controller's next_url points to another host ({shown(urlsplit(next_url).netloc)}); not followed")
        return next_url

    def _list_instances(self, connection, selection):
        """Every instance of the selection: one listing per state and resource group, every page; then the filters."""
        rc_url = selection["resource_controller_url"]
        found = {}
        for state in selection["states"]:
            for group in selection["resource_groups"] or [None]:
                query = {"type": "service_instance", "state": state, "limit": PAGE_SIZE}
                if group:
                    query["resource_group_id"] = group
                url = f"{rc_url}/v2/resource_instances?{urlencode(query)}"
                seen = set()
                while url:
                    if url in seen or len(seen) >= MAX_PAGES:
                        raise AnsibleError("The Resource Controller's listing does not end (next_url repeats); stopped")
                    seen.add(url)
                    body = self._get(connection, url, "Listing the instances of the Resource Controller")
                    resources = body.get("resources")
                    if not isinstance(resources, list):
                        raise AnsibleError("The Resource Controller's listing has no resources list")
                    for raw in resources:
                        item = _instance(raw) if isinstance(raw, dict) else None
                        if item is not None and self._selected(item, selection):
                            found[item["guid"]] = item
                    next_url = body.get("next_url")
                    url = self._next_url(rc_url, next_url) if isinstance(next_url, str) and next_url else None
        instances = [found[guid] for guid in sorted(found)]
        if selection["read_tags"]:
            for item in instances:
                item["tags"] = self._tags(connection, selection["tagging_url"], item)
        return instances

    @staticmethod
    def _selected(item, selection):
        if item["service"] not in selection["services"]:
            return False
        if selection["regions"] and item["region"] not in selection["regions"]:
            return False
        if selection["plans"] and item["plan"] not in selection["plans"] and item["plan_id"] not in selection["plans"]:
            return False
        if selection["instance_names"] and not any(fnmatch.fnmatchcase(item["name"], pattern) for pattern in selection["instance_names"]):
            return False
        return True

    def _tags(self, connection, tagging_url, item):
        query = urlencode({"attached_to": item["crn"], "providers": "ghost", "tag_type": "user", "limit": 1000})
        body = self._get(connection, f"{tagging_url}/v3/tags?{query}", f"Reading the tags of instance {item['guid']} from Global Tagging")
        items = body.get("items") if isinstance(body.get("items"), list) else []
        return [entry["name"] for entry in items if isinstance(entry, dict) and isinstance(entry.get("name"), str)]

    # -- the inventory ------------------------------------------------------------------------------------
    def _cache_key_of(self, path, selection):
        text = json.dumps({"path": path, "selection": selection}, sort_keys=True)
        return f"{self.NAME.replace('.', '_')}_{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}"

    def _populate(self, instances):
        endpoint_type = self.get_option("endpoint_type")
        group = self.get_option("group")
        strict = self.get_option("strict")
        if group:
            self.inventory.add_group(group)
        names = hostnames(instances)
        for item in instances:
            host = names[item["guid"]]
            self.inventory.add_host(host, group=group or None)
            hostvars = host_vars(item, endpoint_type)
            for name, value in hostvars.items():
                self.inventory.set_variable(host, name, value)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        selection = self._selection()
        if self.get_option("endpoint_type") not in (None, "public", "private"):
            raise AnsibleParserError(f"endpoint_type must be public or private (got {shown(self.get_option('endpoint_type'))})")
        connection = self._connection(selection)
        cache_key = self._cache_key_of(path, selection)
        use_cache = bool(self.get_option("cache"))
        instances = None
        if use_cache and cache:
            try:
                instances = self._cache[cache_key]
            except KeyError:
                instances = None
        if instances is None:
            self._require_credentials(connection)
            instances = self._list_instances(connection, selection)
            if use_cache:
                self._cache[cache_key] = instances
        self._populate(instances)
