//! A Dedicated AI Cluster agent with a typed tool.
//!
//! ```sh
//! LOCUS_MODEL_ID=ocid1.generativeaiendpoint.oc1.us-chicago-1.… \
//! LOCUS_OCI_COMPARTMENT=ocid1.compartment.oc1..… \
//! cargo run -p locus-agent --example dac_agent
//! ```

use locus_agent::{Agent, OciSetup, ToolError, tool_fn};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct OrderStatus {
    /// The order number, e.g. A-1001.
    order: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lookup = tool_fn("order_status", "The delivery status of an order.", |args: OrderStatus| async move {
        match args.order.as_str() {
            "A-1001" => Ok::<_, ToolError>("shipped on Monday".to_owned()),
            other => Err(ToolError::new(format!("no order {other}"))),
        }
    });
    // Model, compartment, profile and region from LOCUS_* / OCI_* variables; the tool from code.
    let model = OciSetup::from_env(std::sync::Arc::new(oci_auth::OsEnv))?.build()?;
    let agent = Agent::builder().model(model).system_prompt("You answer order questions.").tool(lookup).build()?;
    let result = agent.run_to_completion("Where is order A-1001?").await?;
    println!("{}\n({:?}, {} tokens)", result.text, result.stop_reason, result.usage.total_tokens);
    Ok(())
}
