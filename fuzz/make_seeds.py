#!/usr/bin/env python3
"""Writes the seed corpora (fuzz/seeds/<target>/): a few inputs per target
in the formats the targets read (see fuzz/src/token.rs and each target's
doc comment). Run it again after changing a format; the fuzzer finds the
rest on its own."""

import base64
import json
import pathlib

HERE = pathlib.Path(__file__).parent / "seeds"
URL = "http://localhost:3000"
FF = b"\xff"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def js(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def claims(iss=URL, aud=URL, sub="alice") -> bytes:
    # NOW is replaced by the current Unix time when the target runs.
    text = js({"sub": sub, "iss": iss, "aud": aud, "email": "a@example.com"})
    return text[:-1] + b',"iat":NOW,"exp":NOW,"nbf":NOW}'


def case(mode: int, key: int, header: dict, payload: bytes, pos: int = 0, xor: int = 0) -> bytes:
    return bytes([mode, key, pos >> 8, pos & 0xFF, xor]) + js(header) + FF + payload


def write(target: str, seeds: dict) -> None:
    folder = HERE / target
    folder.mkdir(exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)


RAW = {
    "three-segments": b"a.b.c",
    "alg-none": (b64(js({"alg": "none"})) + "." + b64(js({"sub": "a"})) + ".").encode(),
    "jku": (b64(js({"alg": "HS256", "jku": "http://evil"})) + "." + b64(b"{}") + ".c2ln").encode(),
    "hs256": (b64(js({"alg": "HS256", "typ": "JWT"})) + "." + b64(claims()) + ".c2lnbmF0dXJl").encode(),
}

write("token_inspect", RAW)

for target, alg, iss, aud in [
    ("verify_secret", "HS256", URL, URL),
    ("internal_credential", "HS256", "todo-edge", "tasks"),
]:
    seeds = {f"raw-{name}": bytes(5) + data for name, data in RAW.items()}
    seeds["signed"] = case(1, 0, {"alg": alg, "typ": "JWT"}, claims(iss, aud))
    seeds["signed-aud-array"] = case(1, 0, {"alg": alg}, claims(iss, [aud, "x"]))
    seeds["signed-unicode-sub"] = case(1, 0, {"alg": alg}, claims(iss, aud, "café-😀"))
    seeds["signed-crit"] = case(1, 0, {"alg": alg, "crit": ["exp"]}, claims(iss, aud))
    seeds["tampered"] = case(2, 0, {"alg": alg}, claims(iss, aud), pos=40, xor=1)
    write(target, seeds)

def fnv1a(data: bytes) -> int:
    """64-bit FNV-1a, as verify_jwks computes it."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# verify_jwks: the keys in the order of TestKey::one_of_each. A slow key
# (RSA, P-521) signs only inputs whose FNV-1a hash is a multiple of 256;
# its seeds are made so (a signed case ignores position and XOR bytes, a
# tampered one tries positions from 90 on), so that each key's seeds do use it.
SLOW_KEY_SHARE = 256
JWKS_KEYS = [("EdDSA", "ed"), ("ES256", "es"), ("ES512", "es512"), ("RS256", "rs"), ("PS256", "ps")]


def jwks_case(mode: int, key: int, header: dict, payload: bytes, pos: int = 0, xor: int = 0) -> bytes:
    data = case(mode, key, header, payload, pos, xor)
    if JWKS_KEYS[key][0] not in ("ES512", "RS256", "PS256"):
        return data
    for step in range(65536):
        data = case(mode, key, header, payload, (pos + step) % 65536, xor) if mode == 2 else \
            case(mode, key, header, payload, step >> 8, step & 0xFF)
        if fnv1a(data) % SLOW_KEY_SHARE == 0:
            return data
    raise SystemExit(f"no seed for key {key} signs with it")


jwks = {f"raw-{name}": bytes(5) + data for name, data in RAW.items()}
for key, (alg, kid) in enumerate(JWKS_KEYS):
    jwks[f"signed-{kid}"] = jwks_case(1, key, {"alg": alg, "kid": kid}, claims())
    jwks[f"signed-{kid}-no-kid"] = jwks_case(1, key, {"alg": alg}, claims())
    jwks[f"tampered-{kid}"] = jwks_case(2, key, {"alg": alg, "kid": kid}, claims(), pos=90, xor=4)
jwks["signed-wrong-kid"] = case(1, 0, {"alg": "EdDSA", "kid": "es"}, claims())
write("verify_jwks", jwks)

ED = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "EdDSA", "kid": "ed"}
EC = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "alg": "ES256", "kid": "es"}
write("jwks_parse", {
    "two-keys": js({"keys": [ED, EC]}),
    "oct": js({"keys": [{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "h"}]}),
    "duplicate-kid": js({"keys": [ED, dict(EC, kid="ed")]}),
    "es512": js({"keys": [{"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p5", "x": "AQ", "y": "AQ"}]}),
    "rsa": js({"keys": [{"kty": "RSA", "n": "sXch", "e": "AQAB", "alg": "RS256", "use": "sig", "kid": "r"}]}),
    "not-keys": js({"keys": {}}),
})


def request(method: int, flags: int, path: str, headers: str = "", body: bytes = b"") -> bytes:
    return bytes([method, flags]) + path.encode() + FF + headers.encode() + FF + body


GET, POST, PUT, PATCH, DELETE, OPTIONS = range(6)
write("edge_request", {
    "list": request(GET, 1, "/api/{me}/tasks?status=pending&limit=5"),
    "create": request(POST, 3, "/api/{me}/tasks", "", js({"title": "t", "description": "d"})),
    "update": request(PUT, 3, "/api/{me}/tasks/7", "", js({"title": "t", "completed": True})),
    "toggle": request(PATCH, 1, "/api/{me}/tasks/7/complete"),
    "delete": request(DELETE, 1, "/api/{me}/tasks/404"),
    "other-user": request(GET, 1, "/api/{other}/tasks/7"),
    "no-token": request(GET, 0, "/api/{me}/tasks"),
    "preflight": request(OPTIONS, 4, "/api/{me}/tasks",
                         "access-control-request-method: POST\naccess-control-request-headers: authorization"),
    "two-auth": request(GET, 1, "/api/{me}/tasks", "authorization: Bearer x"),
    "query-token": request(GET, 0, "/api/{me}/tasks?access_token=x"),
    "identity-header": request(GET, 1, "/api/{me}/tasks", "x-user-id: bob\nx-internal-auth: Bearer y"),
    "readyz": request(GET, 0, "/readyz"),
    "bad-json": request(POST, 3, "/api/{me}/tasks", "", b'{"title":'),
})
