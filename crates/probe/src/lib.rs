//! The health check inside the service images, which carry no shell, curl
//! or grpc_health_probe:
//!
//! - `probe grpc http://127.0.0.1:50052 [SERVICE]`: the standard gRPC health
//!   check (`grpc.health.v1.Health/Check`) answers SERVING for SERVICE
//!   (default `""`, the whole server);
//! - `probe http http://127.0.0.1:8080/readyz`: a plain HTTP/1.1 GET answers
//!   2xx.
//!
//! Each check gives up after `PROBE_TIMEOUT_MS` (default 3000).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tonic::transport::Endpoint;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

pub const USAGE: &str = "usage: probe grpc URL [SERVICE] | probe http URL";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs the check `args` names and reports on stdout/stderr; returns the
/// exit code: 0 healthy, 1 unhealthy, 2 usage error.
pub async fn run(args: &[String]) -> u8 {
    let timeout = std::env::var("PROBE_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let checked = match args.as_slice() {
        ["grpc", url] => grpc(url, "", timeout).await,
        ["grpc", url, service] => grpc(url, service, timeout).await,
        ["http", url] => http(url, timeout).await.map(|_| ()),
        _ => {
            eprintln!("{USAGE}");
            return 2;
        }
    };
    match checked {
        Ok(()) => {
            println!("healthy");
            0
        }
        Err(error) => {
            eprintln!("unhealthy: {error}");
            1
        }
    }
}

/// Passes when the gRPC server at `url` reports `service` as SERVING.
pub async fn grpc(url: &str, service: &str, timeout: Duration) -> Result<(), String> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|error| format!("invalid URL {url:?}: {error}"))?
        .connect_timeout(timeout);
    let check = async {
        let channel = endpoint
            .connect()
            .await
            .map_err(|error| format!("cannot connect to {url}: {error}"))?;
        let reply = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .map_err(|status| format!("{url}: {:?} {}", status.code(), status.message()))?;
        match reply.into_inner().status() {
            ServingStatus::Serving => Ok(()),
            status => Err(format!("{url} reports {service:?} as {status:?}")),
        }
    };
    tokio::time::timeout(timeout, check)
        .await
        .map_err(|_| format!("{url}: no answer within {timeout:?}"))?
}

/// Passes when a GET of `url` (`http://host:port/path`) answers 2xx; returns
/// the status code.
pub async fn http(url: &str, timeout: Duration) -> Result<u16, String> {
    let (authority, path) = split_url(url)?;
    let get = async {
        let mut stream = TcpStream::connect(authority)
            .await
            .map_err(|error| format!("cannot connect to {authority}: {error}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: probe\r\nConnection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|error| format!("{url}: {error}"))?;
        // The status line is all that matters; read until it is complete.
        let mut head = Vec::new();
        let mut buffer = [0_u8; 512];
        while !head.contains(&b'\n') && head.len() < 8 * 1024 {
            let read = stream
                .read(&mut buffer)
                .await
                .map_err(|error| format!("{url}: {error}"))?;
            if read == 0 {
                break;
            }
            head.extend_from_slice(&buffer[..read]);
        }
        status_code(&head).ok_or_else(|| format!("{url}: not an HTTP answer"))
    };
    let code = tokio::time::timeout(timeout, get)
        .await
        .map_err(|_| format!("{url}: no answer within {timeout:?}"))??;
    if (200..300).contains(&code) {
        Ok(code)
    } else {
        Err(format!("{url} answered {code}"))
    }
}

/// `http://host:port/path?query` → (`host:port`, `/path?query`).
fn split_url(url: &str) -> Result<(&str, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, "/"),
    };
    if authority.is_empty() || !authority.contains(':') {
        return Err(format!(
            "{url:?}: give host and port, e.g. http://127.0.0.1:8080/healthz"
        ));
    }
    Ok((authority, path))
}

/// The code in a status line such as `HTTP/1.1 200 OK`.
fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    parts
        .next()
        .filter(|version| version.starts_with("HTTP/"))?;
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{split_url, status_code};

    #[test]
    fn urls_split_into_authority_and_path() {
        assert_eq!(
            split_url("http://127.0.0.1:8080/readyz"),
            Ok(("127.0.0.1:8080", "/readyz"))
        );
        assert_eq!(split_url("http://web:3000"), Ok(("web:3000", "/")));
        assert!(split_url("https://web:3000/").is_err());
        assert!(split_url("http://web/").is_err(), "no port");
    }

    #[test]
    fn the_status_line_gives_the_code() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(
            status_code(b"HTTP/1.0 503 Service Unavailable\r\nx: y"),
            Some(503)
        );
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(b""), None);
    }
}
