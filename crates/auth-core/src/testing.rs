//! Test support (feature `test-support`): fixed test keys (from
//! `testdata/`, never used outside tests) that sign tokens the way Better
//! Auth does, and a tiny JWKS server on 127.0.0.1 that counts its fetches and
//! can change its keys, fail, stop and start again.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A private test key and the public JWK Better Auth would publish for it.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
    jwk: Value,
}

fn der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).expect("test PEM is base64")
}

impl TestKey {
    fn new(kid: &str, alg: Algorithm, encoding: EncodingKey) -> Self {
        let jwk = Jwk::from_encoding_key(&encoding, alg).expect("public JWK of a test key");
        let mut jwk = serde_json::to_value(jwk).expect("JWK as JSON");
        let object = jwk.as_object_mut().expect("JWK is an object");
        object.retain(|_, v| !v.is_null());
        // As Better Auth publishes them: `alg` and `kid`, no `use`.
        object.insert("alg".into(), json!(format!("{alg:?}")));
        object.insert("kid".into(), json!(kid));
        object.remove("use");
        Self {
            kid: kid.to_owned(),
            alg,
            encoding,
            jwk,
        }
    }

    /// Ed25519 (EdDSA, Better Auth's default), first key.
    pub fn ed25519_a(kid: &str) -> Self {
        let der = der(include_str!("../testdata/ed25519-a.pem"));
        Self::new(kid, Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
    }

    /// Ed25519, a second key (for rotation).
    pub fn ed25519_b(kid: &str) -> Self {
        let der = der(include_str!("../testdata/ed25519-b.pem"));
        Self::new(kid, Algorithm::EdDSA, EncodingKey::from_ed_der(&der))
    }

    /// P-256 (ES256).
    pub fn p256(kid: &str) -> Self {
        let der = der(include_str!("../testdata/p256.pem"));
        Self::new(kid, Algorithm::ES256, EncodingKey::from_ec_der(&der))
    }

    /// RSA 2048 for RS256.
    pub fn rs256(kid: &str) -> Self {
        let der = der(include_str!("../testdata/rsa-rs256.pem"));
        Self::new(kid, Algorithm::RS256, EncodingKey::from_rsa_der(&der))
    }

    /// Another RSA 2048 key, for PS256.
    pub fn ps256(kid: &str) -> Self {
        let der = der(include_str!("../testdata/rsa-ps256.pem"));
        Self::new(kid, Algorithm::PS256, EncodingKey::from_rsa_der(&der))
    }

    /// The public JWK, as published.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// A token with header `{"alg", "kid"}` (as Better Auth's) and these claims.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.typ = None;
        header.kid = Some(self.kid.clone());
        self.sign_with_header(&header, claims)
    }

    /// A token with any header, signed with this key.
    pub fn sign_with_header(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.encoding).expect("sign with a test key")
    }
}

/// A P-521 (ES512) public JWK with kid `es512-key`: Better Auth can publish
/// one, jsonwebtoken cannot verify it.
pub fn es512_jwk() -> Value {
    serde_json::from_str(include_str!("../testdata/p521-public.jwk.json")).expect("ES512 test JWK")
}

/// A JWKS document of these keys.
pub fn jwks_document(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

/// The claims Better Auth puts in a token for `sub`, valid now, for `url`.
pub fn claims(sub: &str, url: &str) -> Value {
    let now = jsonwebtoken::get_current_timestamp();
    json!({
        "sub": sub, "iss": url, "aud": url, "iat": now, "exp": now + 900,
        "id": sub, "email": format!("{sub}@example.com"), "name": sub,
        "emailVerified": false, "image": null,
    })
}

struct Reply {
    status: u16,
    body: String,
}

/// A JWKS endpoint on 127.0.0.1 serving `/api/auth/jwks` (any path, in
/// fact), counting requests.
pub struct JwksServer {
    addr: SocketAddr,
    reply: Arc<Mutex<Reply>>,
    fetches: Arc<AtomicU64>,
    task: Option<JoinHandle<()>>,
}

impl JwksServer {
    /// Starts on a free port, serving these keys.
    pub async fn start(keys: &[Value]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::serve(listener, keys)
    }

    /// A free port for a server started later with [`JwksServer::start_at`]
    /// (until then, connections to it are refused).
    pub async fn reserve() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr")
    }

    /// Starts on this address (from [`JwksServer::reserve`]).
    pub async fn start_at(addr: SocketAddr, keys: &[Value]) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind reserved port");
        Self::serve(listener, keys)
    }

    fn serve(listener: TcpListener, keys: &[Value]) -> Self {
        let addr = listener.local_addr().expect("addr");
        let reply = Arc::new(Mutex::new(Reply {
            status: 200,
            body: jwks_document(keys),
        }));
        let fetches = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept(listener, Arc::clone(&reply), Arc::clone(&fetches)));
        Self {
            addr,
            reply,
            fetches,
            task: Some(task),
        }
    }

    /// The base URL (what `BETTER_AUTH_URL` would be).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The JWKS URL, `${base}/api/auth/jwks`.
    pub fn jwks_url(&self) -> String {
        format!("{}/api/auth/jwks", self.base_url())
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests answered so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Publishes these keys from now on.
    pub fn set_keys(&self, keys: &[Value]) {
        self.set_reply(200, jwks_document(keys));
    }

    /// Answers with this status and body from now on.
    pub fn set_reply(&self, status: u16, body: String) {
        *self.reply.lock().expect("reply") = Reply { status, body };
    }

    /// Stops listening: connections are refused from now on.
    pub async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn accept(listener: TcpListener, reply: Arc<Mutex<Reply>>, fetches: Arc<AtomicU64>) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let reply = Arc::clone(&reply);
        let fetches = Arc::clone(&fetches);
        tokio::spawn(async move {
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            fetches.fetch_add(1, Ordering::SeqCst);
            let response = {
                let reply = reply.lock().expect("reply");
                format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                    reply.status,
                    reply.body.len(),
                    reply.body
                )
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
