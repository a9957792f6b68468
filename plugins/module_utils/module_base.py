# -*- coding: utf-8 -*-
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The base every module of the collection is built on.

It owns the common options (documented once, in the ``ibm.hs_crypto.common``
doc fragment), the connection built from them, and the one failure helper that
turns any ``HsCryptoError`` into a consistent result: context, the service's
message, status, reason codes and correlation id. Never a secret: the
connection's redactor scrubs the API key and every token it used, and tokens
obtained during the run are added to Ansible's own ``no_log`` values.
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.ibm.hs_crypto.plugins.module_utils.connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils.discovery import ENDPOINT_TYPES, SERVICE_CHOICES
from ansible_collections.ibm.hs_crypto.plugins.module_utils.errors import ConfigurationError, HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def common_argument_spec():
    """The options every module accepts (so ``module_defaults`` for the action group fits them all)."""
    return dict(
        instance_id=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_INSTANCE_ID"])),
        region=dict(type="str", fallback=(env_fallback, ["IBMCLOUD_REGION", "IC_REGION"])),
        endpoint=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_ENDPOINT", "IBMCLOUD_KP_API_ENDPOINT"])),
        endpoint_type=dict(type="str", choices=list(ENDPOINT_TYPES), default="public",
                           fallback=(env_fallback, ["HS_CRYPTO_ENDPOINT_TYPE"])),
        service=dict(type="str", choices=list(SERVICE_CHOICES), fallback=(env_fallback, ["HS_CRYPTO_SERVICE"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["IBMCLOUD_API_KEY", "IC_API_KEY"])),
        iam_token=dict(type="str", no_log=True, fallback=(env_fallback, ["IBMCLOUD_IAM_TOKEN", "IC_IAM_TOKEN"])),
        iam_url=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_IAM_URL", "IBMCLOUD_IAM_API_ENDPOINT"])),
        broker_url=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_BROKER_URL", "IBMCLOUD_HPCS_API_ENDPOINT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["HS_CRYPTO_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["HS_CRYPTO_CA_PATH"])),
        timeout=dict(type="float", default=30.0, fallback=(env_fallback, ["HS_CRYPTO_TIMEOUT"])),
        retries=dict(type="int", default=4, fallback=(env_fallback, ["HS_CRYPTO_RETRIES"])),
    )


COMMON_OPTION_NAMES = frozenset(common_argument_spec())


class HsCryptoModule(object):
    """An ``AnsibleModule`` with the collection's connection and failure helper.

    ``mask_tokens`` (default True) adds every token the run obtains to the
    values Ansible masks in output; ``hs_crypto_iam_token``, whose job is to
    return a token, turns it off.
    """

    def __init__(self, argument_spec=None, supports_check_mode=True, mask_tokens=True, sleep=None, **kwargs):
        spec = common_argument_spec()
        spec.update(argument_spec or {})
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.mask_tokens = mask_tokens
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
        options = dict((name, self.params.get(name)) for name in COMMON_OPTION_NAMES)
        try:
            self.connection = Connection(options, sleep=sleep)
        except ConfigurationError as exc:
            self.module.fail_json(msg=str(exc))

    @property
    def kms(self):
        return self.connection.kms

    def _protect_tokens(self):
        if self.mask_tokens:
            self.module.no_log_values.update(self.connection.tokens_seen())

    def exit_json(self, **result):
        result.setdefault("changed", False)
        result.setdefault("correlation_id", self.connection.correlation_id)
        self._protect_tokens()
        self.module.exit_json(**result)

    def fail_json(self, msg, **result):
        self._protect_tokens()
        self.module.fail_json(msg=self.connection.redact(msg), **result)

    def fail_from(self, exc, context=None, **result):
        """Fail with ``context: <service message>`` plus status, reason codes and correlation id under ``error``."""
        message = self.connection.redact(str(exc))
        if context and not message.startswith(context):
            message = "%s: %s" % (context, message)
        details = []
        if getattr(exc, "status", None):
            details.append("HTTP %s" % exc.status)
        for reason in getattr(exc, "reasons", None) or []:
            text = reason.get("code") or ""
            if reason.get("message") and reason.get("message") not in message:
                text = "%s: %s" % (text, reason["message"]) if text else reason["message"]
            if text:
                details.append(self.connection.redact(text))
        if getattr(exc, "correlation_id", None):
            details.append("correlation id %s" % exc.correlation_id)
        if details:
            message = "%s [%s]" % (message, "; ".join(details))
        if getattr(exc, "status", None) == 401 and self.connection.instance is not None:
            message += (". Check that the API key's identity has access to instance %s; an instance whose allowed_network policy "
                        "is private-only answers only on its private endpoint (endpoint_type=private)" % self.connection.instance.guid)
        error = exc.to_dict() if isinstance(exc, HsCryptoError) else {}
        if error.get("reasons"):
            error["reasons"] = [dict((k, self.connection.redact(v) if isinstance(v, str) else v) for k, v in r.items())
                                for r in error["reasons"]]
        result.setdefault("correlation_id", error.get("correlation_id") or self.connection.correlation_id)
        self.fail_json(message, error=error, **result)

    def run(self, handler, context=None):
        """Call ``handler(self)``; any collection error ends in ``fail_from``, anything else in a clean failure."""
        try:
            handler(self)
        except HsCryptoError as exc:
            self.fail_from(exc, context)
        except Exception as exc:  # pylint: disable=broad-except
            # A bug, or a server answer so odd the client did not expect it: a clean message, never a bare traceback.
            self.fail_json("Unexpected error (%s): %s" % (type(exc).__name__, self.connection.redact(str(exc))),
                           exception=self.connection.redact(traceback.format_exc()))
