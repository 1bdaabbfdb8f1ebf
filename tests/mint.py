#!/usr/bin/env python3
"""Test-only OpenApe grant token minter, independent of escapes and of escapes-mint.

Same CLI and byte-identical output as tools/testkit (escapes-mint):

  mint.py jwks --seed <64 hex> --kid <kid>
  mint.py sign --seed <64 hex> --kid <kid> --claims <json> [--header <json>]
  mint.py cmd-hash <arg>...

Claims and header are used byte-for-byte as given. Errors go to stderr with exit status 2.
"""

import base64
import hashlib
import os
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

USAGE = """usage:
  mint.py jwks --seed <64 hex> --kid <kid>
  mint.py sign --seed <64 hex> --kid <kid> --claims <json> [--header <json>]
  mint.py cmd-hash <arg>..."""


class UsageError(Exception):
    pass


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def json_escape(s: bytes) -> bytes:
    # Same minimal escaping as escapes-mint (not json.dumps, which also escapes non-ASCII).
    out = bytearray()
    for b in s:
        if b == 0x22:
            out += b'\\"'
        elif b == 0x5C:
            out += b"\\\\"
        elif b < 0x20:
            out += b"\\u%04x" % b
        else:
            out.append(b)
    return bytes(out)


def options(args, allowed):
    opts = {}
    it = iter(args)
    for name in it:
        if name not in allowed:
            raise UsageError("unexpected argument %r" % name.decode("utf-8", "replace"))
        if name in opts:
            raise UsageError("%s given twice" % name.decode())
        try:
            opts[name] = next(it)
        except StopIteration:
            raise UsageError("%s needs a value" % name.decode()) from None
    return opts


def required(opts, name):
    if name not in opts:
        raise UsageError("missing " + name.decode())
    return opts[name]


def private_key(seed_hex: bytes) -> Ed25519PrivateKey:
    if len(seed_hex) != 64 or any(c not in b"0123456789abcdefABCDEF" for c in seed_hex):
        raise UsageError("--seed must be 64 hex digits")
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex.decode("ascii")))


def run(args) -> bytes:
    """args are the raw argv bytes; returns the raw output bytes (without newline)."""
    if not args:
        raise UsageError("missing sub-command")
    command, rest = args[0], args[1:]
    if command == b"jwks":
        opts = options(rest, (b"--seed", b"--kid"))
        key = private_key(required(opts, b"--seed"))
        kid = required(opts, b"--kid")
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return (
            b'{"keys":[{"kty":"OKP","crv":"Ed25519","x":"'
            + b64url(public).encode("ascii")
            + b'","kid":"'
            + json_escape(kid)
            + b'","alg":"EdDSA","use":"sig"}]}'
        )
    if command == b"sign":
        opts = options(rest, (b"--seed", b"--kid", b"--claims", b"--header"))
        key = private_key(required(opts, b"--seed"))
        kid = required(opts, b"--kid")
        claims = required(opts, b"--claims")
        header = opts.get(b"--header")
        if header is None:
            header = b'{"alg":"EdDSA","typ":"JWT","kid":"' + json_escape(kid) + b'"}'
        signing_input = (b64url(header) + "." + b64url(claims)).encode("ascii")
        signature = key.sign(signing_input)
        return signing_input + b"." + b64url(signature).encode("ascii")
    if command == b"cmd-hash":
        if not rest:
            raise UsageError("cmd-hash needs at least one argument")
        return hashlib.sha256(b" ".join(rest)).hexdigest().encode("ascii")
    raise UsageError("unknown sub-command %r" % command.decode("utf-8", "replace"))


def main() -> int:
    # os.fsencode recovers the exact argv bytes, so non-UTF-8 arguments hash and sign as given.
    try:
        out = run([os.fsencode(a) for a in sys.argv[1:]])
        sys.stdout.buffer.write(out + b"\n")
    except UsageError as e:
        print("mint.py: %s\n%s" % (e, USAGE), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
