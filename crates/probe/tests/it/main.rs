//! The probe's integration tests, one binary: the health checks against
//! real gRPC and HTTP servers on port 0.

mod checks;
