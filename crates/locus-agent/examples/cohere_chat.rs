//! A Cohere model on demand: the COHERE request shape is chosen from the id.
//!
//! ```sh
//! cargo run -p locus-agent --example cohere_chat -- ocid1.compartment.oc1..…
//! ```

use locus_agent::{Agent, OciSetup, tools::builtin};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(compartment) = std::env::args().nth(1) else {
        eprintln!("usage: cohere_chat <compartment OCID>");
        std::process::exit(2);
    };
    // Auth from ~/.oci/config (DEFAULT, or OCI_CLI_PROFILE), built once with the client and the model.
    let model = OciSetup::new("cohere.command-r-plus-08-2024")?.compartment_id(compartment).build()?;
    let agent = Agent::builder().model(model).tool(builtin::calculator()).build()?;
    let mut conversation = agent.conversation();
    println!("{}", conversation.send("What is 17*23?").await?.text);
    println!("{}", conversation.send("And twice that?").await?.text);
    Ok(())
}
