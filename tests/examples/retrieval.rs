//! Retrieval, then an answer: embed a folder of text files, find the files
//! nearest a question, rerank them, and let the agent answer from the best
//! ones. Runs offline against the emulator:
//!
//! ```sh
//! cargo run -p locus-scenarios --example retrieval -- [FOLDER] ["QUESTION"]
//! ```
//!
//! (default folder: `docs/`, default question: "How do I choose a transport?").
//! Against the service, build the client with `Auth::from_env()` instead of
//! the emulator's key, and pick real models.

use std::sync::Arc;

use locus_agent::Agent;
use locus_providers::{EmbedInput, Embedder, InputType, OciChatModel, OciEmbedder, OciReranker, Reranker};
use oci_genai_emulator::{DEMO_COMPARTMENT, Emulator, EmulatorConfig};
use oci_genai_transport::GenAiClient;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let folder = args.next().unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../docs").into());
    let question = args.next().unwrap_or_else(|| "How do I choose a transport?".into());

    // An emulator with a throwaway key (a real client: GenAiClient::builder().auth(Auth::from_env()?)).
    let emulator = Emulator::start(EmulatorConfig::default()).await?;
    let key = oci_auth::PrivateKey::generate_session_key()?;
    emulator.register_api_key("ocid1.user.oc1..example", &key);
    let fingerprint = key.fingerprint().to_owned();
    let provider =
        oci_auth::ApiKeyProvider::new(&emulator.config().tenancy, "ocid1.user.oc1..example", &fingerprint, key);
    let client =
        GenAiClient::builder().credentials_provider(Arc::new(provider)).service_endpoint(emulator.url()).build()?;

    // 1. Embed every text file of the folder, one paragraph per input.
    let mut passages = Vec::new();
    for entry in std::fs::read_dir(&folder)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md" || e == "txt") {
            let text = std::fs::read_to_string(&path)?;
            for paragraph in text.split("\n\n").map(str::trim).filter(|p| p.len() > 40) {
                passages
                    .push((path.file_name().unwrap_or_default().to_string_lossy().into_owned(), paragraph.to_owned()));
            }
        }
    }
    let embedder = OciEmbedder::new(client.clone(), "cohere.embed-english-v3.0", DEMO_COMPARTMENT)?;
    let inputs: Vec<EmbedInput> = passages.iter().map(|(_, p)| EmbedInput::Text(p.clone())).collect();
    let vectors = embedder.clone().input_type(InputType::SearchDocument).embed(&inputs).await?;
    let query = embedder.input_type(InputType::SearchQuery).embed(&[EmbedInput::Text(question.clone())]).await?;
    println!("embedded {} passages of {folder}", passages.len());

    // 2. The 20 nearest passages by cosine similarity (the vectors are unit length).
    let mut nearest: Vec<(f32, usize)> =
        vectors.iter().enumerate().map(|(i, v)| (v.iter().zip(&query[0]).map(|(a, b)| a * b).sum(), i)).collect();
    nearest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let candidates: Vec<String> = nearest.iter().take(20).map(|(_, i)| passages[*i].1.clone()).collect();

    // 3. Rerank them for the question; keep the best three.
    let reranker = OciReranker::new(client.clone(), "cohere.rerank-v3.5", DEMO_COMPARTMENT)?;
    let best = reranker.rerank(&question, &candidates, Some(3)).await?;
    for rank in &best {
        let first_line = candidates[rank.index].lines().next().unwrap_or_default();
        println!("  {:.2}  {first_line}", rank.score);
    }

    // 4. Answer from them.
    let context: Vec<&str> = best.iter().map(|r| candidates[r.index].as_str()).collect();
    let model = OciChatModel::builder("echo").client(client).compartment_id(DEMO_COMPARTMENT).build()?;
    let agent = Agent::builder().model(model).system_prompt("Answer from the passages given.").build()?;
    let prompt = format!("Passages:\n\n{}\n\nQuestion: {question}", context.join("\n\n"));
    let answer = agent.run_to_completion(prompt).await?;
    println!(
        "\nanswer ({} characters; the emulator's echo model repeats the prompt):\n{}",
        answer.text.len(),
        answer.text.lines().last().unwrap_or_default()
    );
    Ok(())
}
