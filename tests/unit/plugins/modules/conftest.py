# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module tests: run a module's main() in-process against the emulator, and read the JSON it printed."""

import json
import os
import sys
import time

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.common.parameters import PASS_VARS
from ansible_collections.ibm.hs_crypto.plugins.module_utils import _key_service as key_service, _safe_write as safe_write, _transport as transport

TESTS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

from hpcs_emulator.server import EmulatorServer  # noqa: E402  pylint: disable=wrong-import-position
from hpcs_emulator.testing import ALICE_API_KEY, BOB_API_KEY, INSTANCE_A, get_token  # noqa: E402  pylint: disable=wrong-import-position

from ansible.module_utils.testing import patch_module_args  # noqa: E402  pylint: disable=wrong-import-position


# ansible-core 2.21 returns the module's arguments as ``invocation`` only when the controller asks (INJECT_INVOCATION);
# the tests ask, because what must be masked in the echoed arguments is checked there.
INJECT_INVOCATION = "inject_invocation" in PASS_VARS


@pytest.fixture(scope="session")
def emulator():
    with EmulatorServer() as emu:
        yield emu


@pytest.fixture
def emu(emulator):
    """The shared emulator, reset before each test."""
    emulator.state.reset()
    return emulator


class WaitRecorder:
    """Stands in for the time module of the collection's transport and key service: their pauses (backoff before a
    retry, Retry-After, the wait before looking for a concurrent run's twin) are recorded instead of slept. The
    emulator's own delays and every clock stay real, so timeouts and deadlines are still tested for real."""

    def __init__(self):
        self.waits = []

    def sleep(self, seconds):
        self.waits.append(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The pauses the module under test asked for, in seconds (none of them is slept)."""
    recorder = WaitRecorder()
    for module in (transport, key_service, safe_write):
        monkeypatch.setattr(module, "time", recorder)
    return recorder


@pytest.fixture
def run_module(capsys, monkeypatch):
    """``run_module(main, args, check_mode=False) -> (failed, result)``; environment fallbacks are cleared first."""
    for name in ("IBMCLOUD_API_KEY", "IC_API_KEY", "IBMCLOUD_IAM_TOKEN", "IC_IAM_TOKEN", "IBMCLOUD_REGION", "IC_REGION",
                 "HS_CRYPTO_INSTANCE_ID", "HS_CRYPTO_ENDPOINT", "IBMCLOUD_KP_API_ENDPOINT", "HS_CRYPTO_IAM_URL",
                 "IBMCLOUD_IAM_API_ENDPOINT", "HS_CRYPTO_BROKER_URL", "IBMCLOUD_HPCS_API_ENDPOINT", "HS_CRYPTO_CA_PATH",
                 "HS_CRYPTO_VALIDATE_CERTS", "HS_CRYPTO_TIMEOUT", "HS_CRYPTO_RETRIES", "HS_CRYPTO_ENDPOINT_TYPE"):
        monkeypatch.delenv(name, raising=False)

    # Module warnings as a module process sees them, in-process: Ansible keeps them in a process-wide store that only the
    # end of a module process empties (empty it, or an earlier test's warning shows up in this result), and since
    # ansible-core 2.19, once any test of the process has imported controller code, ``warn`` goes to the controller's
    # display instead of the result (which test ran before depends on how xdist shares the tests out).
    try:
        from ansible.module_utils import _internal  # pylint: disable=import-outside-toplevel
    except ImportError:  # ansible-core < 2.19
        _internal = None
    if _internal is not None and hasattr(_internal, "is_controller"):
        monkeypatch.setattr(_internal, "is_controller", False)

    def run(main, args, check_mode=False):
        store = getattr(ansible_warnings, "_global_warnings", None)
        if store is not None:
            store.clear()
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        if INJECT_INVOCATION:
            args.setdefault("_ansible_inject_invocation", True)
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                main()
        out = capsys.readouterr().out
        result = json.loads(out)
        return bool(result.get("failed")), result

    return run


class Emu:
    """Test-side view of the emulator: connection arguments, the request log, direct KMS calls."""

    def __init__(self, server):
        self.server = server
        self.url = server.http_url
        self._tokens = {}

    def control(self, method, path, **kwargs):
        import requests  # pylint: disable=import-outside-toplevel
        response = requests.request(method, self.url + "/_emulator/" + path, timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def token(self, api_key=ALICE_API_KEY):
        if api_key not in self._tokens:
            self._tokens[api_key] = get_token(self.url, api_key)["access_token"]
        return self._tokens[api_key]

    def forget_tokens(self):
        self._tokens.clear()

    def args(self, identity=ALICE_API_KEY, token=True, **extra):
        """Module arguments: endpoint given (no discovery) and, by default, a token (no IAM request)."""
        args = {"instance_id": INSTANCE_A, "endpoint": self.url, "iam_url": self.url, "api_key": identity}
        if token:
            args["iam_token"] = self.token(identity)
        args.update(extra)
        return args

    def make_key(self, **resource):
        """Create a key directly (a root key unless ``extractable`` says otherwise); return the service's resource."""
        media = "application/vnd.ibm.kms.key+json"
        body = {"metadata": {"collectionType": media, "collectionTotal": 1},
                "resources": [dict({"type": media, "extractable": False}, **resource)]}
        response = self.kms("POST", "keys", json=body)
        assert response.status_code == 201, response.text
        return response.json()["resources"][0]

    def mark(self):
        return self.control("GET", "requests")["last_seq"]

    def requests_since(self, mark, service="kms"):
        entries = self.control("GET", "requests", params={"since": mark})["requests"]
        return [e for e in entries if service is None or e["service"] == service]

    def kms(self, method, path, api_key=ALICE_API_KEY, **kwargs):
        import requests  # pylint: disable=import-outside-toplevel
        headers = {"Authorization": "Bearer " + self.token(api_key), "Bluemix-Instance": INSTANCE_A, "Accept": "application/json"}
        headers.update(kwargs.pop("headers", {}))
        return requests.request(method, self.url + "/api/v2/" + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture
def hsc(emu):
    """The emulator (reset) wrapped for module tests."""
    return Emu(emu)


__all__ = ["ALICE_API_KEY", "BOB_API_KEY", "INSTANCE_A"]
