# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local emulator of IBM Cloud IAM, the HPCS broker and the HPCS KMS API, for tests only.

Start it with ``PYTHONPATH=tests python3 -m hpcs_emulator`` or in-process with
``hpcs_emulator.server.EmulatorServer``. See docs/emulator.md.
"""

from __future__ import annotations

__version__ = '0.2.0'
