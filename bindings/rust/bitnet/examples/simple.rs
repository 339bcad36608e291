//! Loads a model, samples a continuation of a prompt and prints it as it streams.
//! usage: cargo run --example simple -- MODEL.gguf [PROMPT] [N_PREDICT]
use std::io::Write;

use bitnet::{Context, ContextParams, Model, Sampler};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 2 {
        return Err("usage: simple MODEL.gguf [PROMPT] [N_PREDICT]".into());
    }
    let prompt = args.get(2).map_or("Once upon a time", String::as_str);
    let n_predict = args.get(3).map_or(Ok(32), |n| n.parse())?;

    let model = Model::load(&args[1])?;
    let mut context = Context::new(&model, &ContextParams::default())?;
    let sampler = Sampler::chain().top_k(40).temperature(0.8).dist(42).build()?;
    let mut text = model.detokenizer()?;
    let mut stdout = std::io::stdout();
    for token in context.generate(&model.tokenize(prompt, true, false)?, sampler, n_predict)? {
        write!(stdout, "{}", text.push(token?)?)?;
        stdout.flush()?;
    }
    writeln!(stdout, "{}", text.flush()?)?;
    Ok(())
}
