# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key Protect Dedicated crypto units, read-only: ``GET /api/v1/cryptounits`` (key-protect-api.md 5.1).

Answers a bare JSON array ``[{"id", "instanceId", "state"}]`` as IBM's Go client reads it. The instance comes from
``Bluemix-Instance`` or ``Instance-ID``; auth as on ``/api/v2``. Not blocked when no unit is initialized (that is
when a reader needs it). Unit states are set in the config or with ``POST /_emulator/crypto_units``.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from .context import current_state
from .errors import KmsError
from .routing import authorize

bp = Blueprint('cryptounits', __name__, url_prefix='/api/v1')


@bp.route('/cryptounits', methods=['GET'])
def list_crypto_units():
    g.kms_op = ('Crypto units', 'retrieved')
    state = current_state()
    _iam_id, instance_id = authorize(state, ('Bluemix-Instance', 'Instance-ID'))
    units = state.crypto_units(instance_id)
    if units is None:
        raise KmsError(404, 'NOT_FOUND_ERR', 'Crypto units exist for Key Protect Dedicated instances only; this instance '
                       'has none', target=('header', 'bluemix-instance'))
    return jsonify([{'id': unit['id'], 'instanceId': instance_id, 'state': unit['state']} for unit in units])
