# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""Connections for the plugins that run on the controller (lookups, inventory), over the modules' own client.

``connect(options)`` returns a ``ControllerConnection``: the modules' ``Connection`` (module_utils/_connection.py:
the same checks, transport, IAM client, discovery and KMS client, no second HTTP client) whose transport and token
provider, and whose discovered endpoints, are kept in this process's memory and shared by every connection of the
process with the same sign-in:

- one IAM token per IAM URL and credential, renewed by the token provider near its expiry (never written anywhere:
  the cache is a module-level dictionary, keyed by the IAM URL and a keyed hash of the credential and transport
  settings, so no secret is even a dictionary key);
- one discovery per instance (and route) for that sign-in.

Ansible runs lookups in the worker process it forks for each task and host, so the cache serves every term of a
lookup and every lookup templated in one task for one host; what a worker caches dies with it, and the next task asks
IAM again. An inventory plugin runs in the main process (one token for the whole listing), before the workers are
forked: they inherit its token (with the same sign-in), never its HTTP connections (a ``Session`` is used only by the
process that made it).
"""

import hashlib
import hmac
import json
import os

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection

# The connection options of the controller doc fragment (ibm.hs_crypto.controller), and the instance options of the
# plugins that talk to one instance's key management API (the lookup).
CONTROLLER_OPTIONS = ("api_key", "iam_token", "iam_url", "resource_controller_url", "validate_certs", "ca_path", "timeout", "retries",
                      # trusted profiles (module_utils/_iam.py grants)
                      "auth_type", "cr_token_file", "iam_profile_id", "iam_profile_name", "iam_profile_crn", "metadata_url",
                      "metadata_version")
INSTANCE_OPTIONS = ("instance_id", "region", "endpoint", "endpoint_type", "service", "broker_url")
# Options that do not change who signs in or how requests are sent: left out of the session key.
NOT_SESSION = frozenset(INSTANCE_OPTIONS + ("resource_controller_url",))

_SALT = os.urandom(32)  # per process: the hashes mean nothing outside it
_SESSIONS = {}  # session key -> Session
_ENDPOINTS = {}  # (session key, route, service url, instance guid, service, region) -> discovery result


class Session:
    """A transport and the token provider that uses it, shared by the connections of one sign-in in one process.

    ``pid`` is the process that made it: a worker Ansible forks inherits the dictionary, but must not share the
    parent's HTTP connections (its pooled sockets); it keeps the parent's token and opens its own connections.
    """

    def __init__(self, transport, tokens):
        self.transport = transport
        self.tokens = tokens
        self.pid = os.getpid()

    @property
    def ours(self):
        return self.pid == os.getpid()

    @property
    def token(self):
        """The latest access token of the session (None before the first request)."""
        return self.tokens.seen[-1] if self.tokens.seen else None


def clear_cache():
    """Forget every token, transport and discovered endpoint of this process (tests; a plugin never needs it)."""
    _SESSIONS.clear()
    _ENDPOINTS.clear()


def plugin_options(plugin, names, hostvars=None):
    """The plugin's values for ``names`` (None where unset), as ``Connection`` takes them."""
    return dict((name, plugin.get_option(name, hostvars=hostvars) if hostvars is not None else plugin.get_option(name)) for name in names)


def session_key(options):
    """The IAM URL, and a keyed hash of everything else that decides the token and the transport (the credential among it)."""
    material = dict((name, value) for name, value in options.items() if name not in NOT_SESSION and name != "iam_url")
    digest = hmac.new(_SALT, json.dumps(material, sort_keys=True, default=str).encode("utf-8"), hashlib.sha256).hexdigest()
    return ((options.get("iam_url") or "").rstrip("/"), digest)


class ControllerConnection(Connection):
    """``Connection`` with the process-wide session and discovery caches."""

    def __init__(self, options, sleep=None, rng=None):
        super().__init__(options, sleep=sleep, rng=rng)
        self.session_key = session_key(self.options)  # after the checks, which normalize URLs
        self.cache_hits = {"token": False, "endpoints": False}

    @property
    def transport(self):
        if self._transport is None:
            session = _SESSIONS.get(self.session_key)
            self._transport = session.transport if session is not None and session.ours else Connection.transport.fget(self)
        return self._transport

    @property
    def tokens(self):
        if self._tokens is None:
            session = _SESSIONS.get(self.session_key)
            if session is not None and session.ours:
                self._transport = session.transport
                self._tokens = session.tokens
                self.cache_hits["token"] = True
            else:
                inherited = session.token if session is not None else None
                if inherited:
                    # A forked worker: the parent's token (renewed as usual when it nears its expiry), new connections.
                    self.options["iam_token"] = inherited
                    self.redact.add(inherited)
                    self.cache_hits["token"] = True
                    if self._transport is session.transport:
                        self._transport = None
                self._tokens = Connection.tokens.fget(self)
                _SESSIONS[self.session_key] = Session(self.transport, self._tokens)
        return self._tokens

    def _discovery_key(self):
        url = self.broker_url if self.route == "broker" else self.resource_controller_url
        return (self.session_key, self.route, url, self.instance.guid, self.options.get("service"),
                self.options.get("region") or self.instance.region)

    def endpoints(self):
        self.require_instance()
        if self._endpoints is None:
            key = self._discovery_key()
            found = _ENDPOINTS.get(key)
            if found is not None:
                (self._endpoints, self.known_service, self.service, self.plan, self.source, self.record) = found
                self.cache_hits["endpoints"] = True
            else:
                endpoints = super().endpoints()
                _ENDPOINTS[key] = (endpoints, self.known_service, self.service, self.plan, self.source, self.record)
        return self._endpoints


def connect(options, sleep=None, rng=None):
    """A ``ControllerConnection`` for the options (``ConfigurationError`` naming the option and the rule, before any request)."""
    return ControllerConnection(dict(options), sleep=sleep, rng=rng)
