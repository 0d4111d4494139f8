#!/usr/bin/env python3
"""JWKS mode and remote verification, on the running stack.

1. In the default hs256 mode, a user gets an HS256 token.
2. AUTH_JWT_MODE=jwks in the env file, `up -d --wait` (web, edge and
   auth-verify are recreated): the web app signs with Better Auth's own key
   pair, and the edge fetches the public keys from http://web:3000/api/auth/jwks
   over the compose network. The same user's next token is EdDSA with a `kid`
   that the web app publishes; the edge accepts it (create, read back; 403 on
   another user's path) and refuses the earlier HS256 token with 401.
3. AUTH_VERIFY_URL=http://auth-verify:50051 as well: the edge holds no keys
   and asks auth-verify, which fetches them from the web app. Calls pass;
   with auth-verify stopped, the edge's /readyz and a call with a fresh,
   good token answer 503 (never 401, never 200: so it did ask auth-verify);
   with auth-verify started again, calls pass.
"""

from __future__ import annotations

from stack import Stack, User, eventually, expect, jwt_header, log, main, request, write_env


def create_and_read(user: User, title: str) -> None:
    resp = user.api("POST", "", {"title": title})
    expect(resp.status == 201, f"create {title!r}: {resp.describe()}")
    task_id = resp.json()["id"]
    resp = user.api("GET", f"/{task_id}")
    expect(resp.status == 200 and resp.json()["title"] == title, f"read back: {resp.describe()}")


def check(stack: Stack) -> None:
    user = User.sign_up(stack, "jwks")
    other = User.sign_up(stack, "jwks-other")
    expect(jwt_header(user.token).get("alg") == "HS256", f"hs256 mode gave {jwt_header(user.token)}")
    hs256_token = user.token
    create_and_read(user, "hs256")

    log("AUTH_JWT_MODE=jwks: up --wait (web, edge, auth-verify recreated)")
    write_env(stack.env_file, AUTH_JWT_MODE="jwks")
    stack.up(tasks=3)
    header = jwt_header(user.refresh_token())
    expect(header.get("alg") == "EdDSA" and header.get("kid"), f"jwks mode gave {header}")
    jwks = request("GET", stack.web_url + "/api/auth/jwks").json()
    expect(header["kid"] in {k.get("kid") for k in jwks["keys"]}, f"kid {header['kid']} not published: {jwks}")
    create_and_read(user, "jwks in the edge")
    resp = user.api("GET", user_id=other.id)
    expect(resp.status == 403, f"another user's path: {resp.describe()}")
    resp = user.api("GET", token=hs256_token)
    expect(resp.status == 401, f"the HS256 token in jwks mode: {resp.describe()}")
    log("jwks mode, verified in the edge: EdDSA accepted, HS256 refused, 403 across users")

    log("AUTH_VERIFY_URL=http://auth-verify:50051: up --wait (edge recreated)")
    write_env(stack.env_file, AUTH_VERIFY_URL="http://auth-verify:50051")
    stack.up(tasks=3)
    user.refresh_token()
    create_and_read(user, "jwks through auth-verify")
    resp = user.api("GET", user_id=other.id)
    expect(resp.status == 403, f"another user's path: {resp.describe()}")

    log("docker compose stop auth-verify")
    stack.compose("stop", "auth-verify")
    eventually("edge /readyz 503 without auth-verify", lambda: request("GET", stack.edge_url + "/readyz").status == 503)
    user.refresh_token()  # one the edge has never seen
    resp = user.api("GET")
    expect(resp.status == 503, f"a good token while auth-verify is down: {resp.describe()}")

    log("docker compose start auth-verify")
    stack.compose("start", "auth-verify")
    stack.wait_healthy("auth-verify", 1)
    eventually("edge /readyz 200 with auth-verify back", lambda: request("GET", stack.edge_url + "/readyz").status == 200)
    create_and_read(user, "auth-verify back")
    log("remote verification through auth-verify (jwks): passed")


if __name__ == "__main__":
    main(check)
