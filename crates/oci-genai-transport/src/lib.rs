//! OCI Generative AI inference transport.

#![deny(missing_docs)]

mod error;
pub mod models;
pub mod sse;

pub use error::Error;
