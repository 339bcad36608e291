//! Safe Rust interface to libbitnet, an inference engine for BitNet b1.58 ternary models.
//!
//! ```no_run
//! use bitnet::{Context, ContextParams, Model, Sampler};
//!
//! let model = Model::load("model.gguf")?;
//! let mut context = Context::new(&model, &ContextParams::default())?;
//! let prompt = model.tokenize("Once upon a time", true, false)?;
//! let sampler = Sampler::chain().top_k(40).temperature(0.8).dist(42).build()?;
//! let mut text = model.detokenizer()?;
//! for token in context.generate(&prompt, sampler, 32)? {
//!     print!("{}", text.push(token?)?);
//! }
//! # Ok::<(), bitnet::Error>(())
//! ```
//!
//! Handles are freed when dropped. A `Context` borrows its `Model`, so the borrow checker
//! enforces the header's rule that a model outlives its contexts. Failures are `Error`s carrying
//! the library's status and message.
use std::ffi::CStr;

mod batch;
mod context;
mod error;
mod generate;
mod model;
mod sampler;

pub use batch::Batch;
pub use context::{Backend, Context, ContextParams};
pub use error::{Error, Result, Status};
pub use generate::Generate;
pub use model::{Detokenizer, Model};
pub use sampler::{Sampler, SamplerBuilder};

/// The raw declarations, for what this crate does not wrap.
pub use bitnet_sys as sys;

pub type Token = i32;

/// How the library was built and what it found on this machine: the CPU kernel variant in use
/// and, in a build with Vulkan, the Vulkan devices.
pub fn build_info() -> &'static str {
    unsafe { CStr::from_ptr(sys::bitnet_build_info()) }
        .to_str()
        .unwrap_or("")
}

/// The library's version, "MAJOR.MINOR.PATCH".
pub fn version() -> &'static str {
    unsafe { CStr::from_ptr(sys::bitnet_version()) }.to_str().unwrap_or("")
}
