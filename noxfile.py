"""Test and release sessions of the ibm.hs_crypto collection (``nox -l`` lists them; docs/testing.md explains them)."""

from __future__ import annotations

# The supported ansible-core releases (docs/testing.md) and the Python each is tested on; the last is the primary,
# where the steps that run once (integration, lint, docs, build, EE) run. tests/unit/test_collection_metadata.py
# checks meta/runtime.yml's requires_ansible against this table.
ANSIBLE_CORE = {
    '2.19': ('2.19.14', '3.11'),
    '2.20': ('2.20.10', '3.12'),
    '2.21': ('2.21.5', '3.13'),
}
PRIMARY = '2.21'
