//! Ended sessions: tokens whose `sid` the web app's revocation feed lists
//! are refused within 2 s by every verifier, including ones started later;
//! an outage of the feed loses nothing, nor does a revocation the
//! incremental reads missed (the periodic full resync brings it); checks
//! never run before the signature's; without a current list, tokens with
//! `sid` are not judged.

use std::time::{Duration, Instant};

use auth_core::testing::{PATIENCE, RevocationFeedServer, eventually};
use auth_core::{AuthSettings, TokenError, TokenVerifier};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "revocation-test-secret-revocation-test-0123";
const FEED_SECRET: &str = "feed-secret-feed-secret-feed-secret-0123456";
const URL: &str = "http://localhost:3000";
/// The promise: an ended session's tokens are refused within this.
const WITHIN: Duration = Duration::from_secs(2);

fn now() -> i64 {
    i64::try_from(jsonwebtoken::get_current_timestamp()).expect("fits")
}

fn settings(feed: &RevocationFeedServer) -> AuthSettings {
    let mut settings = AuthSettings::hs256(SECRET, URL);
    settings.auth_revocation_secret = Some(SecretString::from(FEED_SECRET.to_owned()));
    settings.auth_revocation_url = Some(feed.url());
    settings
}

fn token_with(secret: &str, sid: Option<&str>) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({"sub": "alice", "iss": URL, "aud": URL, "iat": now, "exp": now + 900});
    if let Some(sid) = sid {
        claims["sid"] = Value::from(sid);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

fn token(sid: &str) -> String {
    token_with(SECRET, Some(sid))
}

async fn ready(verifier: &TokenVerifier) {
    let mut watch = verifier.watch_ready();
    tokio::time::timeout(PATIENCE, watch.wait_for(|ready| *ready))
        .await
        .expect("synced in time")
        .expect("watch open");
    assert_eq!(verifier.readiness(), Ok(()));
}

async fn started(feed: &RevocationFeedServer) -> TokenVerifier {
    let verifier = settings(feed).verifier().expect("verifier");
    ready(&verifier).await;
    verifier
}

/// Waits until `verifier` refuses `token` as of an ended session; returns
/// how long that took from `since`.
async fn refused_after(verifier: &TokenVerifier, token: &str, since: Instant) -> Duration {
    eventually("the ended session's token is refused", || async {
        match verifier.verify(token).await {
            Err(TokenError::SessionEnded) => Some(since.elapsed()),
            Ok(_) => None,
            Err(other) => panic!("refused for another reason: {other}"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_verifier_refuses_an_ended_session_within_2_s_and_nothing_else() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    let verifiers = [
        started(&feed).await,
        started(&feed).await,
        started(&feed).await,
    ];
    let (ended, other) = (token("session-1"), token("session-2"));
    for verifier in &verifiers {
        verifier.verify(&ended).await.expect("accepted before");
    }

    let at = Instant::now();
    feed.revoke("session-1", now() + 960);
    for (i, verifier) in verifiers.iter().enumerate() {
        let took = refused_after(verifier, &ended, at).await;
        assert!(took < WITHIN, "verifier {i} took {took:?}");
    }
    let refusal = verifiers[0].verify(&ended).await.expect_err("refused");
    assert_eq!(
        refusal.to_string(),
        "the session was ended (signed out or revoked)"
    );
    for verifier in &verifiers {
        let claims = verifier.verify(&other).await.expect("other sessions work");
        assert_eq!(claims.session_id.as_deref(), Some("session-2"));
        verifier
            .verify(&token_with(SECRET, None))
            .await
            .expect("tokens without sid keep working");
    }
}

#[tokio::test]
async fn a_verifier_started_after_the_revocation_refuses_from_its_first_request() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.revoke("session-1", now() + 960);
    let verifier = started(&feed).await;
    assert_eq!(
        verifier.verify(&token("session-1")).await,
        Err(TokenError::SessionEnded)
    );
}

#[tokio::test]
async fn a_revoked_sid_in_a_badly_signed_token_is_a_signature_failure() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.revoke("session-1", now() + 960);
    let verifier = started(&feed).await;
    let forged = token_with(
        "another-secret-another-secret-another-0123",
        Some("session-1"),
    );
    assert_eq!(
        verifier.verify(&forged).await,
        Err(TokenError::BadSignature)
    );
}

#[tokio::test]
async fn an_outage_of_the_feed_loses_no_revocation() {
    let mut feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.revoke("before", now() + 960);
    let verifier = started(&feed).await;

    // Down: the list held stays in force.
    feed.stop().await;
    feed.revoke("during", now() + 960);
    let poll_before = verifier.revocations().expect("on").poll_count();
    eventually("a poll failed", || async {
        (verifier.revocations().expect("on").poll_count() > poll_before + 1).then_some(())
    })
    .await;
    assert_eq!(
        verifier.verify(&token("before")).await,
        Err(TokenError::SessionEnded)
    );
    assert!(
        verifier
            .warnings()
            .iter()
            .any(|w| w.contains("could not connect")),
        "{:?}",
        verifier.warnings()
    );

    // Back: what was recorded meanwhile arrives with the next poll.
    feed.restart().await;
    let at = Instant::now();
    let took = refused_after(&verifier, &token("during"), at).await;
    assert!(took < WITHIN, "took {took:?} after the feed came back");

    // An answer that is not the feed (e.g. a 500) changes nothing either.
    feed.fail_with(Some(500));
    let seen = *feed.polls().borrow();
    feed.wait_polls(seen, 2).await;
    assert_eq!(
        verifier.verify(&token("during")).await,
        Err(TokenError::SessionEnded)
    );
}

#[tokio::test]
async fn a_revocation_the_incremental_reads_missed_comes_with_the_periodic_full_resync() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    let mut settings = settings(&feed);
    settings.auth_revocation_poll_ms = 50;
    settings.auth_revocation_resync_secs = 1;
    let verifier = settings.verifier().expect("verifier");
    ready(&verifier).await;
    verifier
        .verify(&token("missed"))
        .await
        .expect("accepted before");

    let full_before = feed.full_answers();
    feed.revoke_unannounced("missed", now() + 960);
    eventually("the missed revocation is enforced", || async {
        match verifier.verify(&token("missed")).await {
            Err(TokenError::SessionEnded) => Some(()),
            Ok(_) => None,
            Err(other) => panic!("refused for another reason: {other}"),
        }
    })
    .await;
    assert!(
        feed.full_answers() > full_before,
        "refused before any full answer carried it"
    );
}

#[tokio::test]
async fn until_the_first_sync_tokens_with_sid_are_not_judged() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.fail_with(Some(503));
    let verifier = settings(&feed).verifier().expect("verifier");
    feed.wait_polls(0, 1).await;
    eventually("the failed poll is recorded", || async {
        verifier
            .readiness()
            .err()
            .filter(|detail| detail.contains("HTTP 503"))
    })
    .await;
    assert!(!*verifier.watch_ready().borrow());
    let error = verifier
        .verify(&token("session-1"))
        .await
        .expect_err("refused");
    assert_eq!(error, TokenError::RevocationsUnavailable);
    assert!(error.is_retryable(), "a 503, not a verdict on the token");
    verifier
        .verify(&token_with(SECRET, None))
        .await
        .expect("tokens without sid are not affected");

    feed.fail_with(None);
    ready(&verifier).await;
    verifier
        .verify(&token("session-1"))
        .await
        .expect("judged now");
}

#[tokio::test]
async fn a_wrong_feed_secret_keeps_the_verifier_unready() {
    let feed = RevocationFeedServer::start("not-the-secret-we-were-given-0123456789").await;
    let verifier = settings(&feed).verifier().expect("verifier");
    let detail = eventually("the refused poll is recorded", || async {
        verifier
            .readiness()
            .err()
            .filter(|d| d.contains("HTTP 401"))
    })
    .await;
    assert!(detail.contains("not loaded yet"), "{detail}");
}

#[tokio::test]
async fn a_list_older_than_the_stale_limit_is_not_trusted() {
    let mut feed = RevocationFeedServer::start(FEED_SECRET).await;
    let mut settings = settings(&feed);
    settings.auth_revocation_max_stale_secs = 1;
    let verifier = settings.verifier().expect("verifier");
    ready(&verifier).await;
    feed.stop().await;
    let mut watch = verifier.watch_ready();
    tokio::time::timeout(PATIENCE, watch.wait_for(|ready| !*ready))
        .await
        .expect("unready in time")
        .expect("watch open");
    assert_eq!(
        verifier.verify(&token("session-1")).await,
        Err(TokenError::RevocationsUnavailable)
    );
    assert!(
        verifier
            .readiness()
            .expect_err("stale")
            .contains("last loaded")
    );
}

#[tokio::test]
async fn require_sid_refuses_tokens_without_one() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    let mut settings = settings(&feed);
    settings.auth_require_sid = true;
    let verifier = settings.verifier().expect("verifier");
    ready(&verifier).await;
    assert_eq!(
        verifier.verify(&token_with(SECRET, None)).await,
        Err(TokenError::MissingClaim("sid"))
    );
    verifier
        .verify(&token("session-1"))
        .await
        .expect("with sid");
}

#[tokio::test]
async fn entries_past_their_end_are_forgotten() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    feed.revoke("long-gone", now() - 1);
    feed.revoke("recent", now() + 960);
    let verifier = started(&feed).await;
    assert_eq!(verifier.revocations().expect("on").len(), 1);
    verifier
        .verify(&token("long-gone"))
        .await
        .expect("forgotten");
}

#[tokio::test]
async fn a_sid_that_is_not_a_short_string_is_refused() {
    let feed = RevocationFeedServer::start(FEED_SECRET).await;
    let verifier = started(&feed).await;
    for sid in [json!(""), json!(7), json!("s".repeat(256))] {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = json!({"sub": "alice", "iss": URL, "aud": URL, "exp": now + 900, "sid": sid});
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("sign");
        assert_eq!(
            verifier.verify(&token).await,
            Err(TokenError::InvalidClaim("sid"))
        );
    }
}
