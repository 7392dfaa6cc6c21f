//! Every event of a run, printed as it happens.
//!
//! ```sh
//! cargo run -p locus-agent --example streaming_events -- oci:meta.llama-3.3-70b-instruct ocid1.compartment.oc1..…
//! ```

use futures::StreamExt;
use locus_agent::{Agent, AgentEvent, OciSetup, tools::builtin};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(compartment)) = (args.next(), args.next()) else {
        eprintln!("usage: streaming_events <oci:model> <compartment OCID>");
        std::process::exit(2);
    };
    let model = OciSetup::new(&model)?.compartment_id(compartment).build()?;
    let agent = Agent::builder().model(model).tool(builtin::calculator()).tool(builtin::clock()).build()?;
    let mut events = agent.run("What time is it, and what is 2^10?");
    while let Some(event) = events.next().await {
        match event? {
            AgentEvent::TextDelta(text) => print!("{text}"),
            AgentEvent::ReasoningDelta(text) => eprint!("{text}"),
            AgentEvent::ToolCallStarted { name, arguments, .. } => eprintln!("\n→ {name} {arguments}"),
            AgentEvent::ToolCallFinished(call) => eprintln!("← {} {} ({:?})", call.name, call.output, call.duration),
            AgentEvent::IterationFinished { iteration, usage } => eprintln!("\n[model call {iteration}: {usage:?}]"),
            AgentEvent::Finished(result) => eprintln!("\n[{:?}]", result.stop_reason),
            _ => {}
        }
    }
    Ok(())
}
