//! OCI Generative AI inference transport.

#![deny(missing_docs)]

pub mod models;
