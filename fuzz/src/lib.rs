//! What the fuzz targets share: how an input becomes a token ([`TokenCase`]),
//! the independent check of what an accepted token must satisfy
//! ([`check_accepted`]), and the stub tasks service the edge target calls
//! ([`stub`]).

pub mod stub;
pub mod token;

/// A runtime for targets that call async code: built once per process.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a Tokio runtime")
    })
}
