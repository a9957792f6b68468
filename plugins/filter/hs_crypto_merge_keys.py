# Copyright (c) ibm.hs_crypto contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ``ibm.hs_crypto.hs_crypto_merge_keys`` filter: the keys every instance shares, with one instance's own keys.

The hs_crypto_instance role declares an instance's keys as ``hs_crypto_instance_shared_keys`` (group_vars: what every
instance holds) merged with ``hs_crypto_instance_keys`` (host_vars: the instance's own keys). An entry of the host's
list that designates the same key as a shared entry - the same key_id, an alias in common, or, for entries without a
key_id, the same name (the identities hs_crypto_key_batch refuses to see twice) - replaces that shared entry as a whole:
the host entry wins, its options are not combined with the shared entry's.
"""

from ansible.errors import AnsibleFilterError


def identities(entry):
    """The identities an entry claims: ("key_id", id), ("alias", alias)..., and ("name", name) when it has no key_id."""
    if not isinstance(entry, dict):
        return set()
    claims = set()
    if entry.get("key_id"):
        claims.add(("key_id", entry["key_id"]))
    elif entry.get("name"):
        claims.add(("name", entry["name"]))
    aliases = entry.get("aliases")
    if isinstance(aliases, list):
        claims.update(("alias", alias) for alias in aliases if isinstance(alias, str))
    return claims


def hs_crypto_merge_keys(shared, own=None):
    """The shared entries no entry of ``own`` replaces, in their order, then the entries of ``own``."""
    shared = [] if shared is None else shared
    own = [] if own is None else own
    if not isinstance(shared, list) or not isinstance(own, list):
        raise AnsibleFilterError("hs_crypto_merge_keys expects two lists of keys (shared keys | hs_crypto_merge_keys(own keys))")
    claimed = set()
    for entry in own:
        claimed.update(identities(entry))
    return [entry for entry in shared if not identities(entry) & claimed] + list(own)


class FilterModule:
    def filters(self):
        return {"hs_crypto_merge_keys": hs_crypto_merge_keys}
