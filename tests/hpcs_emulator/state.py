# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live emulator state shared by every listener: config, clock, tokens, instances, log, faults."""

from __future__ import annotations

import threading

from .clock import Clock
from .config import Config
from .faults import FaultManager
from .instance import InstanceState
from .requestlog import RequestLog
from .tokens import TokenService


class EmulatorState:
    """One per emulator process (or per in-process server).

    ``lock`` guards the KMS model (instances, keys, aliases, rings, policies); the config,
    clock, token service, request log and fault manager lock themselves.
    """

    def __init__(self, config: dict | None = None, token_lifetime: int | None = None):
        self.lock = threading.RLock()
        self.config = Config(config, token_lifetime=token_lifetime)
        self.clock = Clock()
        self.tokens = TokenService(self.clock)
        self.requests = RequestLog()
        self.faults = FaultManager()
        self.endpoints: dict = {}
        self._instances: dict = {}
        self._units: dict = {}

    def instance(self, instance_id: str) -> InstanceState:
        """State of a configured instance (created on first use). Call with ``lock`` held."""
        instance_id = instance_id.lower()
        state = self._instances.get(instance_id)
        if state is None:
            state = self._instances[instance_id] = InstanceState(instance_id)
        return state

    def crn_base(self, instance_id: str) -> str:
        """Key CRNs are ``<crn_base>:key:<id>``."""
        return self.config.instance_crn(instance_id)[:-2]

    def crypto_units(self, instance_id: str) -> list | None:
        """Crypto units ``[{id, state}]`` of a Dedicated instance (from the config until set); None for other plans."""
        spec = self.config.instance(instance_id)
        if spec is None or spec['plan'] != 'dedicated':
            return None
        with self.lock:
            units = self._units.get(instance_id.lower())
            if units is None:
                units = self._units[instance_id.lower()] = spec['crypto_units']
            return [dict(unit) for unit in units]

    def set_crypto_unit_states(self, instance_id: str, states: list) -> list:
        """Set the state of each unit, in order (control endpoint); ValueError when the count differs."""
        with self.lock:
            units = self.crypto_units(instance_id)
            if units is None:
                raise ValueError(f'instance {instance_id} is not a Key Protect Dedicated instance')
            if len(states) != len(units):
                raise ValueError(f'instance {instance_id} has {len(units)} crypto units; give one state per unit')
            for unit, unit_state in zip(units, states):
                unit['state'] = unit_state
            self._units[instance_id.lower()] = units
            return [dict(unit) for unit in units]

    def set_endpoints(self, endpoints: dict) -> None:
        """Record the listener URLs (``http``, ``public``, ``private``) for the broker."""
        self.endpoints = dict(endpoints)

    def reset(self, revoke_tokens: bool = False) -> None:
        """Drop keys, aliases, rings, policies, crypto unit states, log, counters and faults; clock back to real time.

        Requests still waiting in an injected delay are abandoned (connection dropped, not run further), and no request
        begun before the reset is logged or counted after it.
        """
        self.faults.interrupt()
        with self.lock:
            self._instances = {}
            self._units = {}
        self.requests.clear()
        self.faults.clear()
        self.clock.reset()
        if revoke_tokens:
            self.tokens.rotate_secret()

    def key_count(self) -> int:
        with self.lock:
            return sum(len(instance.keys) for instance in self._instances.values())
