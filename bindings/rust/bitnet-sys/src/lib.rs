//! Raw declarations of libbitnet's C API, written by hand from `include/bitnet.h`, which is the
//! manual for every item here. The `bitnet` crate builds a safe interface on top.
//!
//! C enums are declared as integer aliases with constants, not Rust enums: a value the header
//! adds later must not be undefined behaviour in an older binding.
//! `tests/header_coverage.rs` checks that every `BITNET_API` function of the header is declared
//! here with the same number of parameters.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub const BITNET_VERSION_MAJOR: u32 = 0;
pub const BITNET_VERSION_MINOR: u32 = 1;
pub const BITNET_VERSION_PATCH: u32 = 0;
pub const BITNET_VERSION_NUMBER: c_int =
    (BITNET_VERSION_MAJOR * 10000 + BITNET_VERSION_MINOR * 100 + BITNET_VERSION_PATCH) as c_int;

pub type bitnet_status = c_int;
pub const BITNET_OK: bitnet_status = 0;
pub const BITNET_ERR_INVALID_ARGUMENT: bitnet_status = 1;
pub const BITNET_ERR_IO: bitnet_status = 2;
pub const BITNET_ERR_INVALID_MODEL: bitnet_status = 3;
pub const BITNET_ERR_UNSUPPORTED: bitnet_status = 4;
pub const BITNET_ERR_OUT_OF_MEMORY: bitnet_status = 5;
pub const BITNET_ERR_CANCELLED: bitnet_status = 6;
pub const BITNET_ERR_CONTEXT_FULL: bitnet_status = 7;
pub const BITNET_ERR_INVALID_INPUT: bitnet_status = 8;
pub const BITNET_ERR_ABORTED: bitnet_status = 9;
pub const BITNET_ERR_BACKEND: bitnet_status = 10;
pub const BITNET_ERR_BUFFER_TOO_SMALL: bitnet_status = 11;
pub const BITNET_ERR_INVALID_STATE: bitnet_status = 12;
pub const BITNET_ERR_INTERNAL: bitnet_status = 99;

pub type bitnet_log_level = c_int;
pub const BITNET_LOG_ERROR: bitnet_log_level = 0;
pub const BITNET_LOG_WARN: bitnet_log_level = 1;
pub const BITNET_LOG_INFO: bitnet_log_level = 2;
pub const BITNET_LOG_DEBUG: bitnet_log_level = 3;

pub type bitnet_log_callback =
    Option<unsafe extern "C" fn(level: bitnet_log_level, message: *const c_char, user_data: *mut c_void)>;

/// Opaque handles: only ever used behind pointers.
#[repr(C)]
pub struct bitnet_model {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bitnet_context {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bitnet_batch {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bitnet_sampler {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bitnet_detokenizer {
    _private: [u8; 0],
}
#[repr(C)]
pub struct bitnet_speculative {
    _private: [u8; 0],
}

pub type bitnet_token = i32;

pub type bitnet_progress_callback = Option<unsafe extern "C" fn(progress: f32, user_data: *mut c_void) -> bool>;

pub type bitnet_head_type = c_int;
pub const BITNET_HEAD_AS_STORED: bitnet_head_type = 0;
pub const BITNET_HEAD_F16: bitnet_head_type = 1;
pub const BITNET_HEAD_Q8_0: bitnet_head_type = 2;
pub const BITNET_HEAD_Q6_K: bitnet_head_type = 3;
pub const BITNET_HEAD_Q4_0: bitnet_head_type = 4;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_model_params {
    pub struct_size: usize,
    pub progress_callback: bitnet_progress_callback,
    pub progress_user_data: *mut c_void,
    pub head_type: bitnet_head_type,
    pub vocab_only: bool,
    pub use_mmap: bool,
    pub metadata_only: bool,
    pub use_mlock: bool,
}

/// One entry of a model's tensor table (`bitnet_model_tensor_info`); set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_tensor_info {
    pub struct_size: usize,
    pub name: *const c_char,
    pub type_name: *const c_char,
    pub n_dims: i32,
    pub dims: [i64; 4],
    pub data_offset: u64,
    pub n_bytes: u64,
    pub file_type_id: u32,
    pub unrunnable: *const c_char,
}

pub type bitnet_kv_type = c_int;
pub const BITNET_KV_F16: bitnet_kv_type = 0;
pub const BITNET_KV_F32: bitnet_kv_type = 1;

pub type bitnet_backend_type = c_int;
pub const BITNET_BACKEND_AUTO: bitnet_backend_type = 0;
pub const BITNET_BACKEND_CPU: bitnet_backend_type = 1;
pub const BITNET_BACKEND_VULKAN: bitnet_backend_type = 2;

pub type bitnet_abort_callback = Option<unsafe extern "C" fn(user_data: *mut c_void) -> bool>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_context_params {
    pub struct_size: usize,
    pub n_ctx: u32,
    pub n_batch: u32,
    pub n_seq_max: u32,
    pub n_outputs_max: u32,
    pub n_threads: i32,
    pub kv_type: bitnet_kv_type,
    pub quantize_activations: bool,
    pub embeddings: bool,
    pub abort_callback: bitnet_abort_callback,
    pub abort_user_data: *mut c_void,
    pub buffer: *mut c_void,
    pub buffer_size: usize,
    pub backend: bitnet_backend_type,
    pub device_index: i32,
}

pub const BITNET_DEFAULT_SEED: u32 = 0xFFFF_FFFF;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_token_data {
    pub id: bitnet_token,
    pub logit: f32,
    pub p: f32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_token_data_array {
    pub data: *mut bitnet_token_data,
    pub size: usize,
    pub selected: i64,
    pub sorted: bool,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_sampler_chain_params {
    pub struct_size: usize,
    pub no_perf: bool,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_logit_bias {
    pub token: bitnet_token,
    pub bias: f32,
}

pub const BITNET_SAMPLER_CALLBACKS_VERSION: u32 = 1;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_sampler_callbacks {
    pub version: u32,
    pub name: Option<unsafe extern "C" fn(user_data: *mut c_void) -> *const c_char>,
    pub accept: Option<unsafe extern "C" fn(user_data: *mut c_void, token: bitnet_token)>,
    pub apply: Option<unsafe extern "C" fn(user_data: *mut c_void, candidates: *mut bitnet_token_data_array)>,
    pub reset: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    pub free: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    pub user_data: *mut c_void,
}

/// Experimental in bitnet.h (BITNET_EXPERIMENTAL): may change with any library release.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bitnet_sampler_perf_data {
    pub t_sample_ms: f64,
    pub n_sample: i32,
}

/// Speculative decoding (`bitnet_speculative_params`): set `struct_size` first, or start from
/// `bitnet_speculative_default_params()`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_speculative_params {
    pub struct_size: usize,
    pub draft_context: *mut bitnet_context,
    pub draft_max: i32,
    pub lookup_ngram: i32,
    pub seed: u32,
    pub stop_at_eog: bool,
}

/// Counts of a speculative helper (`bitnet_speculative_stats`); set `struct_size` first.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct bitnet_speculative_stats {
    pub struct_size: usize,
    pub n_calls: i64,
    pub n_generated: i64,
    pub n_drafted: i64,
    pub n_accepted: i64,
}

pub const BITNET_COUNT_ERROR: i32 = i32::MIN;
pub const BITNET_TOKEN_NULL: bitnet_token = -1;

pub type bitnet_token_type = c_int;
pub const BITNET_TOKEN_TYPE_UNDEFINED: bitnet_token_type = 0;
pub const BITNET_TOKEN_TYPE_NORMAL: bitnet_token_type = 1;
pub const BITNET_TOKEN_TYPE_UNKNOWN: bitnet_token_type = 2;
pub const BITNET_TOKEN_TYPE_CONTROL: bitnet_token_type = 3;
pub const BITNET_TOKEN_TYPE_USER_DEFINED: bitnet_token_type = 4;
pub const BITNET_TOKEN_TYPE_UNUSED: bitnet_token_type = 5;
pub const BITNET_TOKEN_TYPE_BYTE: bitnet_token_type = 6;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct bitnet_chat_message {
    pub role: *const c_char,
    pub content: *const c_char,
}

extern "C" {
    // Version
    pub fn bitnet_version() -> *const c_char;
    pub fn bitnet_version_number() -> c_int;
    pub fn bitnet_build_info() -> *const c_char;

    // Status codes and errors
    pub fn bitnet_status_string(status: bitnet_status) -> *const c_char;
    pub fn bitnet_last_error() -> *const c_char;
    pub fn bitnet_last_status() -> bitnet_status;

    // Logging
    pub fn bitnet_set_log_callback(callback: bitnet_log_callback, max_level: bitnet_log_level, user_data: *mut c_void);
    pub fn bitnet_log_to_stderr(level: bitnet_log_level, message: *const c_char, user_data: *mut c_void);

    // Models
    pub fn bitnet_model_default_params() -> bitnet_model_params;
    pub fn bitnet_model_load_file(
        path: *const c_char,
        params: *const bitnet_model_params,
        out_model: *mut *mut bitnet_model,
    ) -> bitnet_status;
    pub fn bitnet_model_load_memory(
        data: *const c_void,
        size: usize,
        params: *const bitnet_model_params,
        out_model: *mut *mut bitnet_model,
    ) -> bitnet_status;
    pub fn bitnet_model_free(model: *mut bitnet_model);
    pub fn bitnet_model_architecture(model: *const bitnet_model) -> *const c_char;
    pub fn bitnet_model_name(model: *const bitnet_model) -> *const c_char;
    pub fn bitnet_model_n_params(model: *const bitnet_model) -> u64;
    pub fn bitnet_model_file_size(model: *const bitnet_model) -> u64;
    pub fn bitnet_model_n_layer(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_n_embd(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_n_head(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_n_head_kv(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_n_ff(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_n_vocab(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_n_ctx_train(model: *const bitnet_model) -> i32;
    pub fn bitnet_model_rope_freq_base(model: *const bitnet_model) -> f32;
    pub fn bitnet_model_n_tensors(model: *const bitnet_model) -> i64;
    pub fn bitnet_model_meta_value(
        model: *const bitnet_model,
        key: *const c_char,
        buf: *mut c_char,
        capacity: usize,
    ) -> i64;
    pub fn bitnet_model_meta_count(model: *const bitnet_model) -> i64;
    pub fn bitnet_model_meta_key(model: *const bitnet_model, i: i64) -> *const c_char;
    pub fn bitnet_model_meta_value_by_index(
        model: *const bitnet_model,
        index: i64,
        max_array_elements: i64,
        buf: *mut c_char,
        capacity: usize,
    ) -> i64;
    pub fn bitnet_model_tensor_info(
        model: *const bitnet_model,
        index: i64,
        out: *mut bitnet_tensor_info,
    ) -> bitnet_status;
    pub fn bitnet_model_runnable(model: *const bitnet_model) -> bitnet_status;

    // Contexts
    pub fn bitnet_context_default_params() -> bitnet_context_params;
    pub fn bitnet_context_memory_required(model: *const bitnet_model, params: *const bitnet_context_params) -> usize;
    pub fn bitnet_context_new(
        model: *const bitnet_model,
        params: *const bitnet_context_params,
        out_context: *mut *mut bitnet_context,
    ) -> bitnet_status;
    pub fn bitnet_context_free(context: *mut bitnet_context);
    pub fn bitnet_context_n_ctx(context: *const bitnet_context) -> u32;
    pub fn bitnet_context_n_batch(context: *const bitnet_context) -> u32;
    pub fn bitnet_context_model(context: *const bitnet_context) -> *const bitnet_model;
    pub fn bitnet_context_backend_name(context: *const bitnet_context) -> *const c_char;

    // Batches and decoding
    pub fn bitnet_batch_new(capacity: i32, out_batch: *mut *mut bitnet_batch) -> bitnet_status;
    pub fn bitnet_batch_clear(batch: *mut bitnet_batch);
    pub fn bitnet_batch_add(
        batch: *mut bitnet_batch,
        token: bitnet_token,
        pos: i32,
        seq_ids: *const i32,
        n_seq_ids: i32,
        want_logits: bool,
    ) -> bitnet_status;
    pub fn bitnet_batch_size(batch: *const bitnet_batch) -> i32;
    pub fn bitnet_batch_free(batch: *mut bitnet_batch);
    pub fn bitnet_decode(context: *mut bitnet_context, batch: *const bitnet_batch) -> bitnet_status;
    pub fn bitnet_get_logits(context: *mut bitnet_context, i: i32) -> *const f32;
    pub fn bitnet_get_embeddings(context: *mut bitnet_context, i: i32) -> *const f32;

    // Sequence memory
    pub fn bitnet_memory_clear(context: *mut bitnet_context) -> bitnet_status;
    pub fn bitnet_seq_rm(context: *mut bitnet_context, seq: i32, p0: i32, p1: i32) -> bitnet_status;
    pub fn bitnet_seq_cp(context: *mut bitnet_context, src: i32, dst: i32, p0: i32, p1: i32) -> bitnet_status;
    pub fn bitnet_seq_keep(context: *mut bitnet_context, seq: i32) -> bitnet_status;
    pub fn bitnet_seq_add(context: *mut bitnet_context, seq: i32, p0: i32, p1: i32, delta: i32) -> bitnet_status;
    pub fn bitnet_seq_pos_min(context: *const bitnet_context, seq: i32) -> i32;
    pub fn bitnet_seq_pos_max(context: *const bitnet_context, seq: i32) -> i32;

    // State
    pub fn bitnet_state_size(context: *const bitnet_context) -> usize;
    pub fn bitnet_state_save(
        context: *mut bitnet_context,
        buf: *mut c_void,
        capacity: usize,
        written: *mut usize,
    ) -> bitnet_status;
    pub fn bitnet_state_load(context: *mut bitnet_context, data: *const c_void, size: usize) -> bitnet_status;
    pub fn bitnet_state_save_file(context: *mut bitnet_context, path: *const c_char) -> bitnet_status;
    pub fn bitnet_state_load_file(context: *mut bitnet_context, path: *const c_char) -> bitnet_status;
    pub fn bitnet_state_seq_size(context: *const bitnet_context, seq: i32) -> usize;
    pub fn bitnet_state_seq_save(
        context: *mut bitnet_context,
        seq: i32,
        buf: *mut c_void,
        capacity: usize,
        written: *mut usize,
    ) -> bitnet_status;
    pub fn bitnet_state_seq_load(
        context: *mut bitnet_context,
        dst_seq: i32,
        data: *const c_void,
        size: usize,
    ) -> bitnet_status;
    pub fn bitnet_state_seq_save_file(context: *mut bitnet_context, seq: i32, path: *const c_char) -> bitnet_status;
    pub fn bitnet_state_seq_load_file(context: *mut bitnet_context, dst_seq: i32, path: *const c_char)
        -> bitnet_status;

    // Sampling
    pub fn bitnet_sampler_chain_default_params() -> bitnet_sampler_chain_params;
    pub fn bitnet_sampler_chain_new(
        params: *const bitnet_sampler_chain_params,
        out_chain: *mut *mut bitnet_sampler,
    ) -> bitnet_status;
    pub fn bitnet_sampler_chain_add(chain: *mut bitnet_sampler, member: *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_chain_n(chain: *const bitnet_sampler) -> i32;
    pub fn bitnet_sampler_chain_get(chain: *const bitnet_sampler, i: i32) -> *mut bitnet_sampler;
    pub fn bitnet_sampler_init_greedy(out_sampler: *mut *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_init_dist(seed: u32, out_sampler: *mut *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_init_temperature(temperature: f32, out_sampler: *mut *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_init_top_k(k: i32, out_sampler: *mut *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_init_top_p(p: f32, min_keep: usize, out_sampler: *mut *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_init_min_p(p: f32, min_keep: usize, out_sampler: *mut *mut bitnet_sampler) -> bitnet_status;
    pub fn bitnet_sampler_init_typical(p: f32, min_keep: usize, out_sampler: *mut *mut bitnet_sampler)
        -> bitnet_status;
    pub fn bitnet_sampler_init_penalties(
        last_n: i32,
        repeat: f32,
        frequency: f32,
        presence: f32,
        out_sampler: *mut *mut bitnet_sampler,
    ) -> bitnet_status;
    pub fn bitnet_sampler_init_logit_bias(
        n_vocab: i32,
        biases: *const bitnet_logit_bias,
        n_biases: i32,
        out_sampler: *mut *mut bitnet_sampler,
    ) -> bitnet_status;
    pub fn bitnet_sampler_init_custom(
        callbacks: *const bitnet_sampler_callbacks,
        out_sampler: *mut *mut bitnet_sampler,
    ) -> bitnet_status;
    pub fn bitnet_sampler_sample(sampler: *mut bitnet_sampler, context: *mut bitnet_context, i: i32) -> bitnet_token;
    pub fn bitnet_sampler_sample_logits(sampler: *mut bitnet_sampler, logits: *const f32, n_vocab: i32)
        -> bitnet_token;
    pub fn bitnet_sampler_apply(
        sampler: *mut bitnet_sampler,
        candidates: *mut bitnet_token_data_array,
    ) -> bitnet_status;
    pub fn bitnet_sampler_accept(sampler: *mut bitnet_sampler, token: bitnet_token) -> bitnet_status;
    pub fn bitnet_sampler_reset(sampler: *mut bitnet_sampler);
    pub fn bitnet_sampler_name(sampler: *const bitnet_sampler) -> *const c_char;
    pub fn bitnet_sampler_get_seed(sampler: *const bitnet_sampler) -> u32;
    // Experimental (BITNET_EXPERIMENTAL): not covered by the SONAME promise.
    pub fn bitnet_sampler_perf(chain: *const bitnet_sampler) -> bitnet_sampler_perf_data;
    pub fn bitnet_sampler_perf_reset(chain: *mut bitnet_sampler);
    pub fn bitnet_sampler_free(sampler: *mut bitnet_sampler);

    // Speculative decoding
    pub fn bitnet_speculative_default_params() -> bitnet_speculative_params;
    pub fn bitnet_speculative_new(
        target: *mut bitnet_context,
        params: *const bitnet_speculative_params,
        out_speculative: *mut *mut bitnet_speculative,
    ) -> bitnet_status;
    pub fn bitnet_speculative_generate(
        speculative: *mut bitnet_speculative,
        sampler: *mut bitnet_sampler,
        seq: i32,
        tokens: *const bitnet_token,
        n_tokens: i32,
        out: *mut bitnet_token,
        capacity: i32,
    ) -> i32;
    pub fn bitnet_speculative_get_stats(
        speculative: *const bitnet_speculative,
        out: *mut bitnet_speculative_stats,
    ) -> bitnet_status;
    pub fn bitnet_speculative_free(speculative: *mut bitnet_speculative);

    // Vocabulary and tokenizer
    pub fn bitnet_tokenize(
        model: *const bitnet_model,
        text: *const c_char,
        text_len: i32,
        tokens: *mut bitnet_token,
        capacity: i32,
        add_special: bool,
        parse_special: bool,
    ) -> i32;
    pub fn bitnet_token_to_piece(
        model: *const bitnet_model,
        token: bitnet_token,
        buf: *mut c_char,
        capacity: i32,
        render_special: bool,
    ) -> i32;
    pub fn bitnet_detokenize(
        model: *const bitnet_model,
        tokens: *const bitnet_token,
        n_tokens: i32,
        buf: *mut c_char,
        capacity: i32,
        remove_special: bool,
        render_special: bool,
    ) -> i32;
    pub fn bitnet_vocab_n_tokens(model: *const bitnet_model) -> i32;
    pub fn bitnet_vocab_bos(model: *const bitnet_model) -> bitnet_token;
    pub fn bitnet_vocab_eos(model: *const bitnet_model) -> bitnet_token;
    pub fn bitnet_vocab_eot(model: *const bitnet_model) -> bitnet_token;
    pub fn bitnet_token_is_eog(model: *const bitnet_model, token: bitnet_token) -> bool;
    pub fn bitnet_token_text(model: *const bitnet_model, token: bitnet_token) -> *const c_char;
    pub fn bitnet_token_get_type(model: *const bitnet_model, token: bitnet_token) -> bitnet_token_type;
    pub fn bitnet_detokenizer_new(
        model: *const bitnet_model,
        render_special: bool,
        out: *mut *mut bitnet_detokenizer,
    ) -> bitnet_status;
    pub fn bitnet_detokenizer_push(
        detokenizer: *mut bitnet_detokenizer,
        token: bitnet_token,
        buf: *mut c_char,
        capacity: i32,
    ) -> i32;
    pub fn bitnet_detokenizer_flush(detokenizer: *mut bitnet_detokenizer, buf: *mut c_char, capacity: i32) -> i32;
    pub fn bitnet_detokenizer_free(detokenizer: *mut bitnet_detokenizer);

    // Chat templates
    pub fn bitnet_chat_apply_template(
        model: *const bitnet_model,
        template_name: *const c_char,
        messages: *const bitnet_chat_message,
        n_messages: usize,
        add_assistant_prompt: bool,
        buf: *mut c_char,
        capacity: i32,
    ) -> i32;
}
