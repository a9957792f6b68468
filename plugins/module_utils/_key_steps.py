# -*- coding: utf-8 -*-
# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the ibm.hs_crypto collection: not a public API. Names, signatures and behaviour
# may change in any release; other collections must not import this file.

"""What it takes to bring an existing key to its spec: one small function per attribute, each returning named steps.

A ``Step`` is one write (method, path, body), the action name results report, how to tell from a read of the key
that the step shows (for the lost-answer rule of ``_safe_write``), and how it changes the predicted key in check
mode. Unset options give no step (unset means untouched).
"""

from ansible_collections.ibm.hs_crypto.plugins.module_utils._client import envelope
from ansible_collections.ibm.hs_crypto.plugins.module_utils._errors import HsCryptoError
from ansible_collections.ibm.hs_crypto.plugins.module_utils._key_spec import MAX_ALIASES
from ansible_collections.ibm.hs_crypto.plugins.module_utils._keys import POLICY_MEDIA_TYPE, dual_auth, key_type, rotation


class Step:
    """One write to a key: ``shows(raw)`` tells whether a read of the key shows it; ``predict(raw)`` applies it to a copy."""

    def __init__(self, action, method, path, shows, predict, body=None, params=None, ring_after=None):
        self.action = action
        self.method = method
        self.path = path
        self.shows = shows
        self.predict = predict
        self.body = body
        self.params = params
        self.ring_after = ring_after  # the key ring the key is in once this step is made (a move)


def _aliases_of(raw):
    return list(raw.get("aliases") or [])


def alias_steps(spec, current):
    """Add the task's aliases the key lacks; with ``purge_aliases``, remove the others (at most 5 in all)."""
    if spec.aliases is None:
        return []
    key_id = current["id"]
    have = _aliases_of(current)
    remove = [a for a in have if a not in spec.aliases] if spec.purge_aliases else []
    add = [a for a in spec.aliases if a not in have]
    if len(have) - len(remove) + len(add) > MAX_ALIASES:
        raise HsCryptoError(f"Key {key_id} has the aliases {', '.join(have)}; adding {', '.join(add)} would exceed {MAX_ALIASES} "
                            "aliases (set purge_aliases=true to replace them)")
    steps = []
    for alias in remove:
        steps.append(Step(f"remove_alias:{alias}", "DELETE", f"keys/{key_id}/aliases/{alias}",
                          shows=lambda raw, alias=alias: alias not in _aliases_of(raw),
                          predict=lambda raw, alias=alias: raw.update(aliases=[a for a in _aliases_of(raw) if a != alias])))
    for alias in add:
        steps.append(Step(f"add_alias:{alias}", "POST", f"keys/{key_id}/aliases/{alias}",
                          shows=lambda raw, alias=alias: alias in _aliases_of(raw),
                          predict=lambda raw, alias=alias: raw.update(aliases=_aliases_of(raw) + [alias])))
    return steps


def ring_steps(spec, current):
    """Move the key to ``key_ring`` when it is in another ring."""
    if spec.key_ring is None or spec.key_ring == (current.get("keyRingID") or "default"):
        return []
    return [Step("move_key_ring", "PATCH", f"keys/{current['id']}", body={"keyRingID": spec.key_ring},
                 shows=lambda raw: (raw.get("keyRingID") or "default") == spec.key_ring,
                 predict=lambda raw: raw.update(keyRingID=spec.key_ring), ring_after=spec.key_ring)]


def rotation_steps(spec, current):
    """Set the rotation policy when ``enabled`` or ``interval_month`` differ (root keys only)."""
    if spec.rotation is None:
        return []
    key_id = current["id"]
    if key_type(current) == "standard":
        raise HsCryptoError(f"Key {key_id} is a standard key; rotation policies apply to root keys only")
    held = rotation(current)
    interval = spec.rotation.get("interval_month", held.get("interval_month"))
    wanted = {"enabled": spec.rotation.get("enabled", True if spec.rotation.get("interval_month") else held.get("enabled", False))}
    if interval is not None:
        wanted["interval_month"] = interval
    if bool(held.get("enabled")) == wanted["enabled"] and (interval is None or held.get("interval_month") == interval):
        return []
    return [Step("set_rotation_policy", "PUT", f"keys/{key_id}/policies", params={"policy": "rotation"},
                 body=envelope(POLICY_MEDIA_TYPE, [{"type": POLICY_MEDIA_TYPE, "rotation": wanted}]),
                 shows=lambda raw: all(rotation(raw).get(k) == v for k, v in wanted.items()),
                 predict=lambda raw: raw.update(rotation=dict(wanted)))]


def dual_auth_steps(spec, current):
    """Enable the dual authorization delete policy; it can never be disabled again."""
    dual = dual_auth(current)
    if spec.dual_auth_delete is False and dual.get("enabled"):
        raise HsCryptoError(f"Key {current['id']} has a dual authorization delete policy; once enabled it cannot be disabled")
    if spec.dual_auth_delete is not True or dual.get("enabled"):
        return []
    return [Step("enable_dual_auth_delete", "PUT", f"keys/{current['id']}/policies", params={"policy": "dualAuthDelete"},
                 body=envelope(POLICY_MEDIA_TYPE, [{"type": POLICY_MEDIA_TYPE, "dualAuthDelete": {"enabled": True}}]),
                 shows=lambda raw: bool(dual_auth(raw).get("enabled")),
                 predict=lambda raw: raw.update(dualAuthDelete=dict(dual_auth(raw), enabled=True)))]


def cancel_deletion_steps(spec, current):
    """Withdraw a first approval of a dual authorization deletion (``cancel_deletion``)."""
    if not (spec.cancel_deletion and dual_auth(current).get("keySetForDeletion")):
        return []

    def predict(raw):
        policy = dict(dual_auth(raw), keySetForDeletion=False)
        policy.pop("authExpiration", None)
        raw["dualAuthDelete"] = policy

    return [Step("cancel_deletion_approval", "POST", f"keys/{current['id']}/actions/unsetKeyForDeletion",
                 shows=lambda raw: not dual_auth(raw).get("keySetForDeletion"), predict=predict)]


def enabled_steps(spec, current):
    """Enable a suspended key or disable an active one; a deactivated (expired) key cannot be enabled."""
    if spec.enabled is None:
        return []
    key_id = current["id"]
    state = current.get("state")
    if spec.enabled and state == 3:
        raise HsCryptoError(f"Key {key_id} is deactivated (its expiration date {current.get('expirationDate')} has passed) "
                            "and cannot be enabled")
    if spec.enabled and state == 2:
        return [Step("enable", "POST", f"keys/{key_id}/actions/enable", shows=lambda raw: raw.get("state") == 1,
                     predict=lambda raw: raw.update(state=1))]
    if not spec.enabled and state == 1:
        return [Step("disable", "POST", f"keys/{key_id}/actions/disable", shows=lambda raw: raw.get("state") == 2,
                     predict=lambda raw: raw.update(state=2))]
    return []


# In the order they are applied: a key is in its ring before its policies change, and disabled last.
RECONCILERS = (alias_steps, ring_steps, rotation_steps, dual_auth_steps, cancel_deletion_steps, enabled_steps)


def plan(spec, current):
    """Every step that brings ``current`` to ``spec`` (raises ``HsCryptoError`` for a change the service cannot make)."""
    return [step for reconcile in RECONCILERS for step in reconcile(spec, current)]
