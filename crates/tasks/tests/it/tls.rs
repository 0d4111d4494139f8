//! TLS to PostgreSQL (`sslmode` in `DATABASE_URL`): a server that offers it
//! is used encrypted; one that does not gets a clear start-up error at once,
//! never a panic nor a plain connection.

use sea_orm::{ConnectionTrait, Statement};
use tasks::testing::postgres_admin_url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// `url` with `sslmode=require` added to its query.
fn require_tls(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=require")
}

#[tokio::test]
async fn postgres_with_sslmode_require_is_encrypted() -> anyhow::Result<()> {
    // The test PostgreSQL has TLS on (Debian's default: `ssl = on` with its
    // snakeoil certificate); `require` encrypts without checking the chain.
    let db = tasks::connect(&require_tls(&postgres_admin_url()), 1).await?;
    let statement = Statement::from_string(
        db.get_database_backend(),
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    let encrypted: bool = db
        .query_one_raw(statement)
        .await?
        .expect("this session's row")
        .try_get_by_index(0)?;
    db.close().await?;
    assert!(encrypted, "the connection is not encrypted");
    Ok(())
}

#[tokio::test]
async fn sslmode_require_against_a_server_without_tls_is_a_clear_start_up_error() {
    // A PostgreSQL that declines TLS: it answers the SSLRequest with `N`.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 8];
            if socket.read_exact(&mut request).await.is_ok() {
                let _ = socket.write_all(b"N").await;
            }
        }
    });
    let url = format!("postgres://postgres@127.0.0.1:{port}/tasks?sslmode=require");
    let error = tasks::connect(&url, 1).await.expect_err("refused");
    let chain = format!("{error:#}");
    // "over TLS": said at once, as the configuration's fault, not after the
    // start-up retries meant for a database that is still starting.
    assert!(
        chain.contains("over TLS") && chain.contains("server does not support TLS"),
        "{chain}"
    );
}
