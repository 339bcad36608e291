//! Behaviour against a real model. tests/bindings/test_rust.sh sets BITNET_TEST_MODEL and the C
//! API's reference tokens; without them the model tests have nothing to compare and say so.
use std::env;

use bitnet::{Backend, Batch, Context, ContextParams, Model, Sampler, Status, Token};

struct Reference {
    model: String,
    prompt: String,
    n: usize,
    prompt_tokens: Vec<Token>,
    expected: Vec<Token>,
}

fn ids(text: &str) -> Vec<Token> {
    text.split_whitespace()
        .map(|id| id.parse().expect("a token id"))
        .collect()
}

fn reference() -> Option<Reference> {
    let model = match env::var("BITNET_TEST_MODEL") {
        Ok(model) => model,
        Err(_) => {
            eprintln!("BITNET_TEST_MODEL is not set: run tests/bindings/test_rust.sh for the model tests");
            return None;
        }
    };
    let var = |name: &str| env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
    Some(Reference {
        model,
        prompt: var("BITNET_TEST_PROMPT"),
        n: var("BITNET_TEST_N").parse().unwrap(),
        prompt_tokens: ids(&var("BITNET_TEST_PROMPT_TOKENS")),
        expected: ids(&var("BITNET_TEST_EXPECTED")),
    })
}

#[test]
fn a_missing_model_file_is_an_io_error() {
    let error = Model::load("/nonexistent/model.gguf")
        .err()
        .expect("loading a missing file fails");
    assert_eq!(error.status, Status::Io);
    assert!(!error.message.is_empty());
}

#[test]
fn greedy_generation_matches_the_c_api() {
    let reference = match reference() {
        Some(reference) => reference,
        None => return,
    };
    let model = Model::load(&reference.model).unwrap();
    let prompt = model.tokenize(&reference.prompt, true, false).unwrap();
    assert_eq!(prompt, reference.prompt_tokens);

    let mut context = Context::new(&model, &ContextParams::default()).unwrap();
    let generated: Vec<Token> = context
        .generate(&prompt, Sampler::greedy().unwrap(), reference.n)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(generated, reference.expected);
}

#[test]
fn two_sequences_in_one_batch_continue_like_one() {
    let reference = match reference() {
        Some(reference) => reference,
        None => return,
    };
    let model = Model::load(&reference.model).unwrap();
    let mut context = Context::new(&model, &ContextParams::default().n_seq_max(2)).unwrap();
    let prompt = &reference.prompt_tokens;
    let mut batch = Batch::new(prompt.len()).unwrap();
    // One copy of the prompt belongs to both sequences.
    for (pos, &token) in prompt.iter().enumerate() {
        batch.add(token, pos as i32, &[0, 1], pos + 1 == prompt.len()).unwrap();
    }
    context.decode(&batch).unwrap();
    let mut sampler = Sampler::greedy().unwrap();
    let first = sampler.sample(&mut context, -1).unwrap();
    assert_eq!(Some(&first), reference.expected.first());

    batch.clear();
    batch.add(first, prompt.len() as i32, &[0], true).unwrap();
    batch.add(first, prompt.len() as i32, &[1], true).unwrap();
    context.decode(&batch).unwrap();
    let logits_of_sequence_0 = context.logits(0).unwrap().to_vec();
    assert_eq!(context.logits(1).unwrap(), logits_of_sequence_0.as_slice());
    if let Some(&second) = reference.expected.get(1) {
        assert_eq!(sampler.sample(&mut context, 1).unwrap(), second);
    }
}

#[test]
fn text_round_trips_and_state_restores() {
    let reference = match reference() {
        Some(reference) => reference,
        None => return,
    };
    let model = Model::load(&reference.model).unwrap();
    let tokens = model.tokenize(&reference.prompt, false, false).unwrap();
    assert_eq!(model.detokenize(&tokens).unwrap(), reference.prompt);

    let mut context = Context::new(&model, &ContextParams::default()).unwrap();
    let sampler = Sampler::chain().top_k(40).temperature(0.8).dist(7).build().unwrap();
    let first_run: Vec<Token> = context
        .generate(&tokens, sampler, 4)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!first_run.is_empty());
    let saved = context.save_state().unwrap();
    context.clear().unwrap();
    assert_eq!(context.seq_pos_max(0), None);
    context.load_state(&saved).unwrap();
    assert!(context.seq_pos_max(0).is_some());

    let bad = Sampler::chain()
        .top_p(f32::NAN, 1)
        .greedy()
        .build()
        .err()
        .expect("NaN is rejected");
    assert_eq!(bad.status, Status::InvalidArgument);
}

#[test]
fn backend_and_device_setters_fill_the_parameters() {
    let params = ContextParams::default();
    assert_eq!(params.as_raw().backend, bitnet::sys::BITNET_BACKEND_AUTO);
    assert_eq!(params.as_raw().device_index, 0);
    let params = params.backend(Backend::Vulkan).device_index(3);
    assert_eq!(params.as_raw().backend, bitnet::sys::BITNET_BACKEND_VULKAN);
    assert_eq!(params.as_raw().device_index, 3);
    assert_eq!(
        params.backend(Backend::Cpu).as_raw().backend,
        bitnet::sys::BITNET_BACKEND_CPU
    );
}

#[test]
fn contexts_run_on_the_backend_asked_for() {
    let reference = match reference() {
        Some(reference) => reference,
        None => return,
    };
    let model = Model::load(&reference.model).unwrap();
    let cpu = Context::new(&model, &ContextParams::default().n_ctx(64).backend(Backend::Cpu)).unwrap();
    assert!(cpu.backend_name().starts_with("cpu"), "{}", cpu.backend_name());

    // A device that does not exist: Unsupported, with or without Vulkan.
    let missing = ContextParams::default()
        .n_ctx(64)
        .backend(Backend::Vulkan)
        .device_index(99);
    let error = Context::new(&model, &missing).err().expect("device 99 does not exist");
    assert_eq!(error.status, Status::Unsupported);

    // Device 0 exists exactly when bitnet_build_info() lists one.
    let info = bitnet::build_info();
    let has_device = info.contains("vulkan devices: ") && !info.contains("vulkan devices: none");
    let vulkan = Context::new(&model, &ContextParams::default().n_ctx(64).backend(Backend::Vulkan));
    match vulkan {
        Ok(mut context) => {
            assert!(has_device, "{info}");
            assert!(
                context.backend_name().starts_with("vulkan "),
                "{}",
                context.backend_name()
            );
            let generated: Vec<Token> = context
                .generate(&reference.prompt_tokens, Sampler::greedy().unwrap(), 2)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(!generated.is_empty());
        }
        Err(error) => {
            assert!(!has_device, "{info}: {error:?}");
            assert_eq!(error.status, Status::Unsupported);
        }
    }
}
