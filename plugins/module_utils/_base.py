# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

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

from ansible_collections.ibm.hs_crypto.plugins.module_utils._connection import Connection
from ansible_collections.ibm.hs_crypto.plugins.module_utils._discovery import ENDPOINT_TYPES
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import ConfigurationError, HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import check_key_crn_instance
from ansible_collections.ibm.hs_crypto.plugins.module_utils._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


def common_argument_spec():
    """The options every module accepts (so ``module_defaults`` for the action group fits them all)."""
    return dict(
        instance_id=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_INSTANCE_ID"])),
        region=dict(type="str", fallback=(env_fallback, ["IBMCLOUD_REGION", "IC_REGION"])),
        endpoint=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_ENDPOINT", "IBMCLOUD_KP_API_ENDPOINT"])),
        endpoint_type=dict(type="str", choices=list(ENDPOINT_TYPES), default="public",
                           fallback=(env_fallback, ["HS_CRYPTO_ENDPOINT_TYPE"])),
        service=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_SERVICE"])),
        api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["IBMCLOUD_API_KEY", "IC_API_KEY"])),
        iam_token=dict(type="str", no_log=True, fallback=(env_fallback, ["IBMCLOUD_IAM_TOKEN", "IC_IAM_TOKEN"])),
        iam_url=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_IAM_URL", "IBMCLOUD_IAM_API_ENDPOINT"])),
        # Trusted profiles (docs/docsite/rst/trusted_profiles.rst); the environment names are IBM's SDK core's where it has one.
        auth_type=dict(type="str", choices=["container", "vpc"], fallback=(env_fallback, ["HS_CRYPTO_AUTH_TYPE"])),
        cr_token_file=dict(type="path", fallback=(env_fallback, ["CR_TOKEN_FILENAME"])),
        iam_profile_id=dict(type="str", fallback=(env_fallback, ["IAM_PROFILE_ID"])),
        iam_profile_name=dict(type="str", fallback=(env_fallback, ["IAM_PROFILE_NAME"])),
        iam_profile_crn=dict(type="str", fallback=(env_fallback, ["IAM_PROFILE_CRN"])),
        metadata_url=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_METADATA_URL"])),
        metadata_version=dict(type="str", choices=["2022-03-01", "2025-08-26"],
                              fallback=(env_fallback, ["VPC_IMS_VERSION"])),
        broker_url=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_BROKER_URL", "IBMCLOUD_HPCS_API_ENDPOINT"])),
        resource_controller_url=dict(type="str", fallback=(env_fallback, ["HS_CRYPTO_RESOURCE_CONTROLLER_URL",
                                                                          "IBMCLOUD_RESOURCE_CONTROLLER_API_ENDPOINT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["HS_CRYPTO_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["HS_CRYPTO_CA_PATH"])),
        timeout=dict(type="float", default=30.0, fallback=(env_fallback, ["HS_CRYPTO_TIMEOUT"])),
        retries=dict(type="int", default=4, fallback=(env_fallback, ["HS_CRYPTO_RETRIES"])),
    )


COMMON_OPTION_NAMES = frozenset(common_argument_spec())

# A module that talks to two instances (a migration's source and target) takes the second under ``target``.
# Its identity never comes from the module's own options; its credentials do, unless it names its own.
TARGET_IDENTITY = ("instance_id", "region", "endpoint", "endpoint_type", "service")
TARGET_CREDENTIALS = ("api_key", "iam_token", "auth_type", "cr_token_file", "iam_profile_id", "iam_profile_name",
                      "iam_profile_crn")
TARGET_OPTIONS = TARGET_IDENTITY + TARGET_CREDENTIALS + ("iam_url", "resource_controller_url", "ca_path")
TARGET_PLANS = ("tiered-pricing", "cross-region-resiliency", "dedicated")


def target_argument_spec():
    """The ``target`` option: the second instance's connection options (doc fragment ``target``)."""
    common = common_argument_spec()
    options = {}
    for name in TARGET_OPTIONS:
        spec = {key: value for key, value in common[name].items() if key not in ("fallback", "default")}
        options[name] = spec
    options["instance_id"]["required"] = True
    options["plan"] = dict(type="str", choices=list(TARGET_PLANS))
    return dict(target=dict(type="dict", required=True, options=options))


def target_options(params):
    """The common options of the ``target`` instance: its own, else the module's credentials and transport."""
    given = {name: value for name, value in (params.get("target") or {}).items() if value is not None and name != "plan"}
    options = {name: params.get(name) for name in COMMON_OPTION_NAMES}
    for name in TARGET_IDENTITY:
        options[name] = None
    if any(given.get(name) for name in TARGET_CREDENTIALS):
        for name in TARGET_CREDENTIALS:
            options[name] = None
    options.update(given)
    options["endpoint_type"] = options.get("endpoint_type") or "public"
    return options


class HsCryptoModule(AnsibleModule):
    """An ``AnsibleModule`` with the collection's common options, connection and failure helper.

    ``mask_tokens`` (default True) adds every token the run obtains to the
    values Ansible masks in output; ``hs_crypto_iam_token``, whose job is to
    return a token, turns it off. ``exit_json`` keeps a ``diff`` only when the
    task runs in diff mode, so modules always hand over their diff.
    """

    def __init__(self, argument_spec=None, supports_check_mode=True, mask_tokens=True, sleep=None, **kwargs):
        spec = common_argument_spec()
        spec.update(argument_spec or {})
        self.connection = None
        self.target = None
        self.mask_tokens = mask_tokens
        self._sleep = sleep
        super().__init__(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
        options = {name: self.params.get(name) for name in COMMON_OPTION_NAMES}
        try:
            self.connection = Connection(options, sleep=sleep)
            self._check_key_crns()
            if "target" in self.argument_spec:
                self.target = Connection(target_options(self.params), sleep=sleep)
                self.target.plan_hint = (self.params.get("target") or {}).get("plan")
        except ConfigurationError as exc:
            self.fail_json(msg=str(exc))

    def _check_key_crns(self):
        """A key CRN in ``key_id`` (or in a batch entry's) must name this instance, checked before any request."""
        instance = self.connection.instance
        if instance is None:
            return
        check_key_crn_instance(self.params.get("key_id"), instance.guid)
        for index, entry in enumerate(self.params.get("crypto_keys") or ()):
            if isinstance(entry, dict):
                check_key_crn_instance(entry.get("key_id"), instance.guid, f"crypto_keys[{index}].key_id")

    @property
    def kms(self):
        return self.connection.kms

    @property
    def connections(self):
        return [connection for connection in (self.connection, self.target) if connection is not None]

    def _protect_tokens(self):
        for connection in self.connections:
            for warning in connection.warnings:
                self.warn(warning)
            connection.warnings = []
            # The compute-resource token and the instance identity token are never shown, even by hs_crypto_iam_token.
            self.no_log_values.update(connection.secrets_seen())
            if self.mask_tokens:
                self.no_log_values.update(connection.tokens_seen())

    def redact(self, text):
        for connection in self.connections:
            text = connection.redact(text)
        return text

    def exit_json(self, **result):
        result.setdefault("changed", False)
        if self.connection is not None:
            result.setdefault("correlation_id", self.connection.correlation_id)
        if not getattr(self, "_diff", False):
            result.pop("diff", None)
        self._protect_tokens()
        super().exit_json(**result)

    def fail_json(self, msg, **result):
        # A failure keeps its diff (an immutable attribute that differs is explained by it), diff mode or not.
        self._protect_tokens()
        super().fail_json(msg=self.redact(msg), **result)

    def keep_outputs_intact(self, outputs, secret_options=("plaintext", "ciphertext", "aad")):
        """Stop Ansible's ``no_log`` masking from damaging secret outputs; returns the ``invocation`` to return, or None.

        Ansible replaces every occurrence of a ``no_log`` input value anywhere in the
        result. A short ``aad`` string (say ``v1``) occurs by chance inside a base64
        ciphertext often enough that the returned ciphertext would come back damaged
        and unusable. Input values found inside an output are therefore taken off the
        masking list, and the task's echoed arguments are masked here instead. An
        input that occurs by chance inside random base64 reveals nothing.
        """
        texts = [value for value in outputs if isinstance(value, str) and value]
        colliding = {value for value in self.no_log_values if any(value in text for text in texts)}
        if not colliding:
            return None
        self.no_log_values.difference_update(colliding)
        masked = dict(self.params)
        for name, spec in self.argument_spec.items():
            if (spec.get("no_log") or name in secret_options) and masked.get(name) is not None:
                masked[name] = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        return {"module_args": masked}

    @staticmethod
    def item_diffs(results):
        """Take each result's ``diff`` out; return the ones that change something, headed by the result's ``item``."""
        diffs = [dict(result.pop("diff"), before_header=str(result["item"]), after_header=str(result["item"])) for result in results]
        return [diff for diff in diffs if diff["before"] != diff["after"]]

    def exit_many(self, results, summary, changed, noun="keys", failed=lambda result: result["failed"], **extra):
        """End a module that works on many items: every item converged; the task fails at the end, naming each failed item
        with its message, when any failed (``changed`` and the results are returned either way)."""
        if summary["failed"]:
            failures = "; ".join(f"{result['item']}: {result['msg']}" for result in results if failed(result))
            self.fail_json(f"{summary['failed']} of {len(results)} {noun} failed: {failures}", changed=changed, results=results,
                           summary=summary, **extra)
        self.exit_json(changed=changed, results=results, summary=summary, **extra)

    def fail_from(self, exc, context=None, **result):
        """Fail with ``context: <service message>`` plus status, reason codes and correlation id under ``error``."""
        message = self.redact(str(exc))
        if context and not message.startswith(context):
            message = f"{context}: {message}"
        details = []
        if getattr(exc, "status", None):
            details.append(f"HTTP {exc.status}")
        for reason in getattr(exc, "reasons", None) or []:
            text = reason.get("code") or ""
            if reason.get("message") and reason.get("message") not in message:
                text = f"{text}: {reason['message']}" if text else reason["message"]
            if text:
                details.append(self.redact(text))
        if getattr(exc, "correlation_id", None):
            details.append(f"correlation id {exc.correlation_id}")
        if details:
            message = f"{message} [{'; '.join(details)}]"
        if getattr(exc, "status", None) == 401 and self.connection is not None:
            message += self._unauthorized_advice()
        error = exc.to_dict() if isinstance(exc, HsCryptoError) else {}
        if error.get("reasons"):
            error["reasons"] = [dict((k, self.redact(v) if isinstance(v, str) else v) for k, v in r.items())
                                for r in error["reasons"]]
        result.setdefault("correlation_id", error.get("correlation_id") or (self.connection.correlation_id if self.connection else None))
        self.fail_json(message, error=error, **result)

    def _unauthorized_advice(self):
        """What a 401 from the service (after any renewal of the token) can mean, for the credentials this task has."""
        connection = self.connection
        if connection.auth_type in ("container", "vpc"):
            identity = "the trusted profile"
            advice = ""
        elif connection.options.get("api_key"):
            identity = "the API key's identity"
            advice = ""
        else:
            identity = "the token's identity"
            advice = ". The service refused the iam_token, and no api_key was given to obtain a new one (the token may be revoked, or issued by another IAM)"
        if connection.instance is None:
            return advice
        return (f"{advice}. Check that {identity} has access to instance {connection.instance.guid}; an instance whose allowed_network policy "
                "is private-only answers only on its private endpoint (endpoint_type=private)")

    def run(self, handler, context=None):
        """Call ``handler(self)``; any collection error ends in ``fail_from``, anything else in a clean failure."""
        try:
            handler(self)
        except HsCryptoError as exc:
            # A failure after a write still says what was changed (``changed``, ``actions``), so handlers run.
            self.fail_from(exc, context, **(getattr(exc, "partial", None) or {}))
        except Exception as exc:  # pylint: disable=broad-except
            # A bug, or a server answer so odd the client did not expect it: a clean message, never a bare traceback.
            self.fail_json(f"Unexpected error ({type(exc).__name__}): {self.redact(str(exc))}",
                           exception=self.redact(traceback.format_exc()))
