//! The edges facing the network and other processes, tried as a hostile
//! client, MCP server, upstream and neighbour would (issue 25; the numbers
//! in the names are its items): `locus serve`, MCP tools, local files and
//! headers. Everything stays on 127.0.0.1, bounded in count and time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../hostile/harness.rs"]
#[allow(dead_code)]
mod harness;

mod files;
mod gateway;
mod mcp;
mod serving;
