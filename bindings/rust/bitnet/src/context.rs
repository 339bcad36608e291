//! Contexts: the KV cache and outputs of one or more sequences over a borrowed model.
use std::ptr::{self, NonNull};

use bitnet_sys as sys;

use crate::error::{check, Error, Result, Status};
use crate::{Batch, Generate, Model, Sampler, Token};

/// Which compute backend a context runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Vulkan on a real GPU when there is one, else the CPU (the library's default).
    Auto,
    /// The CPU backend.
    Cpu,
    /// The Vulkan device `ContextParams::device_index` names (any device, lavapipe included);
    /// creating the context fails with `Status::Unsupported` when there is none.
    Vulkan,
}

impl Backend {
    fn to_raw(self) -> sys::bitnet_backend_type {
        match self {
            Backend::Auto => sys::BITNET_BACKEND_AUTO,
            Backend::Cpu => sys::BITNET_BACKEND_CPU,
            Backend::Vulkan => sys::BITNET_BACKEND_VULKAN,
        }
    }
}

/// Context parameters, starting from the library's defaults.
#[derive(Debug, Clone, Copy)]
pub struct ContextParams {
    raw: sys::bitnet_context_params,
}

impl Default for ContextParams {
    fn default() -> Self {
        ContextParams {
            raw: unsafe { sys::bitnet_context_default_params() },
        }
    }
}

impl ContextParams {
    /// KV cache cells over all sequences (0: the model's training context, at most 4096).
    pub fn n_ctx(mut self, n_ctx: u32) -> Self {
        self.raw.n_ctx = n_ctx;
        self
    }

    /// The most tokens one decode may carry.
    pub fn n_batch(mut self, n_batch: u32) -> Self {
        self.raw.n_batch = n_batch;
        self
    }

    /// Sequence ids run from 0 to n_seq_max - 1.
    pub fn n_seq_max(mut self, n_seq_max: u32) -> Self {
        self.raw.n_seq_max = n_seq_max;
        self
    }

    /// CPU threads (0: one per core the process may use).
    pub fn n_threads(mut self, n_threads: i32) -> Self {
        self.raw.n_threads = n_threads;
        self
    }

    /// The compute backend (default `Backend::Auto`).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.raw.backend = backend.to_raw();
        self
    }

    /// The Vulkan device, numbered GPUs first (default 0); `bitnet::build_info()` lists them.
    pub fn device_index(mut self, device_index: i32) -> Self {
        self.raw.device_index = device_index;
        self
    }

    /// The raw parameters, for fields this type has no setter for.
    pub fn as_raw(&self) -> &sys::bitnet_context_params {
        &self.raw
    }
}

/// A context borrows its model, so the model cannot be dropped while the context lives.
pub struct Context<'m> {
    raw: NonNull<sys::bitnet_context>,
    model: &'m Model,
}

// A context belongs to one thread at a time: it may move between threads but not be shared.
unsafe impl Send for Context<'_> {}

impl<'m> Context<'m> {
    /// Reserves all the memory the context needs; decoding allocates nothing more.
    ///
    /// ```compile_fail
    /// // A context cannot outlive its model:
    /// let context = {
    ///     let model = bitnet::Model::load("model.gguf").unwrap();
    ///     bitnet::Context::new(&model, &Default::default()).unwrap()
    /// };
    /// ```
    pub fn new(model: &'m Model, params: &ContextParams) -> Result<Self> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::bitnet_context_new(model.as_ptr(), &params.raw, &mut raw) })?;
        let raw = NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "no context returned"))?;
        Ok(Context { raw, model })
    }

    pub fn as_ptr(&mut self) -> *mut sys::bitnet_context {
        self.raw.as_ptr()
    }

    pub fn model(&self) -> &'m Model {
        self.model
    }

    pub fn n_ctx(&self) -> u32 {
        unsafe { sys::bitnet_context_n_ctx(self.raw.as_ptr()) }
    }

    pub fn n_batch(&self) -> u32 {
        unsafe { sys::bitnet_context_n_batch(self.raw.as_ptr()) }
    }

    /// The backend the context runs on, e.g. "cpu avx2, 8 threads" or "vulkan NAME (device 0, discrete gpu)".
    pub fn backend_name(&self) -> String {
        let name = unsafe { sys::bitnet_context_backend_name(self.raw.as_ptr()) };
        if name.is_null() {
            return String::new();
        }
        unsafe { std::ffi::CStr::from_ptr(name) }.to_string_lossy().into_owned()
    }

    /// Runs the model over a batch. On failure the context is unchanged.
    pub fn decode(&mut self, batch: &Batch) -> Result<()> {
        check(unsafe { sys::bitnet_decode(self.raw.as_ptr(), batch.as_ptr()) })
    }

    /// The logits of batch entry `i` of the last decode (-1: the last entry that asked for them).
    /// The borrow ends before the next decode, which overwrites them.
    pub fn logits(&mut self, i: i32) -> Result<&[f32]> {
        let logits = unsafe { sys::bitnet_get_logits(self.raw.as_ptr(), i) };
        if logits.is_null() {
            return Err(Error::last(Status::InvalidArgument));
        }
        Ok(unsafe { std::slice::from_raw_parts(logits, self.model.n_vocab() as usize) })
    }

    /// Empties the whole KV cache.
    pub fn clear(&mut self) -> Result<()> {
        check(unsafe { sys::bitnet_memory_clear(self.raw.as_ptr()) })
    }

    /// Removes positions [p0, p1) of a sequence (p1 < 0: to the end).
    pub fn seq_rm(&mut self, seq: i32, p0: i32, p1: i32) -> Result<()> {
        check(unsafe { sys::bitnet_seq_rm(self.raw.as_ptr(), seq, p0, p1) })
    }

    /// The largest position of `seq` in the cache, or None when it holds none.
    pub fn seq_pos_max(&self, seq: i32) -> Option<i32> {
        let pos = unsafe { sys::bitnet_seq_pos_max(self.raw.as_ptr(), seq) };
        (pos >= 0).then_some(pos)
    }

    /// The whole context state (KV cache and last outputs), for `load_state`.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let mut buffer = vec![0u8; unsafe { sys::bitnet_state_size(self.raw.as_ptr()) }];
        let mut written = 0;
        check(unsafe {
            sys::bitnet_state_save(
                self.raw.as_ptr(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                &mut written,
            )
        })?;
        buffer.truncate(written);
        Ok(buffer)
    }

    pub fn load_state(&mut self, state: &[u8]) -> Result<()> {
        check(unsafe { sys::bitnet_state_load(self.raw.as_ptr(), state.as_ptr().cast(), state.len()) })
    }

    /// Decodes `prompt` after whatever sequence 0 holds and yields up to `max_tokens` tokens
    /// chosen by `sampler`, stopping before an end-of-generation token.
    pub fn generate<'c>(
        &'c mut self,
        prompt: &[Token],
        sampler: Sampler,
        max_tokens: usize,
    ) -> Result<Generate<'c, 'm>> {
        Generate::new(self, prompt, sampler, max_tokens)
    }
}

impl Drop for Context<'_> {
    fn drop(&mut self) {
        unsafe { sys::bitnet_context_free(self.raw.as_ptr()) }
    }
}
