# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throw-away test CA and a server certificate for 127.0.0.1 / localhost."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = 'ca.pem'
CERT_FILE = 'server.pem'
KEY_FILE = 'server-key.pem'
SAN_DNS = ('localhost',)
SAN_IPS = ('127.0.0.1',)
MIN_REMAINING = datetime.timedelta(days=2)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'hpcs-emulator (test only)'),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: str, data: bytes, mode: int) -> None:
    tmp = f'{path}.tmp{os.getpid()}'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.replace(tmp, path)


def _generate(data_dir: str) -> None:
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name('hpcs-emulator test CA')
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.DNSName(name) for name in SAN_DNS] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SAN_IPS]
    server_cert = (
        x509.CertificateBuilder().subject_name(_name('localhost')).issuer_name(ca_name).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=397))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    _write(os.path.join(data_dir, KEY_FILE), key_pem, 0o600)
    _write(os.path.join(data_dir, CERT_FILE), server_cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(os.path.join(data_dir, CA_FILE), ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _valid(data_dir: str) -> bool:
    try:
        with open(os.path.join(data_dir, CA_FILE), 'rb') as handle:
            ca_cert = x509.load_pem_x509_certificate(handle.read())
        with open(os.path.join(data_dir, CERT_FILE), 'rb') as handle:
            server_cert = x509.load_pem_x509_certificate(handle.read())
        with open(os.path.join(data_dir, KEY_FILE), 'rb') as handle:
            server_key = serialization.load_pem_private_key(handle.read(), password=None)
        server_cert.verify_directly_issued_by(ca_cert)
        deadline = datetime.datetime.now(datetime.timezone.utc) + MIN_REMAINING
        if min(ca_cert.not_valid_after_utc, server_cert.not_valid_after_utc) < deadline:
            return False
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        if (server_key.public_key().public_bytes(serialization.Encoding.PEM, public)
                != server_cert.public_key().public_bytes(serialization.Encoding.PEM, public)):
            return False
        sans = server_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        ips = {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
        return set(SAN_IPS) <= ips and set(SAN_DNS) <= set(sans.get_values_for_type(x509.DNSName))
    except (OSError, ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False


def ensure_certificates(data_dir: str) -> dict:
    """Create (or reuse, when present and valid) CA + server cert in ``data_dir``; return their paths."""
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    if not _valid(data_dir):
        _generate(data_dir)
    return {name: os.path.abspath(os.path.join(data_dir, filename))
            for name, filename in (('ca', CA_FILE), ('cert', CERT_FILE), ('key', KEY_FILE))}


class _LazyHandshakeContext(ssl.SSLContext):
    """Defers the TLS handshake from accept() (listener thread) to the worker thread's first read.

    With the default, one client that connects and never handshakes would block every
    other HTTPS client of that listener until the timeout.
    """

    def wrap_socket(self, sock, *args, **kwargs):  # pylint: disable=signature-differs
        kwargs['do_handshake_on_connect'] = False
        return super().wrap_socket(sock, *args, **kwargs)


def server_context(paths: dict) -> ssl.SSLContext:
    context = _LazyHandshakeContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=paths['cert'], keyfile=paths['key'])
    return context
