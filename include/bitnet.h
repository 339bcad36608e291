/*
 * bitnet.h - the public interface of libbitnet, an embeddable inference engine for
 * BitNet b1.58 ternary language models.
 *
 * This header is the manual. Everything a caller may use is declared and documented here.
 *
 * Conventions
 * -----------
 * - Every function that can fail returns a bitnet_status. BITNET_OK is 0; every error is a
 *   distinct positive value that never changes meaning (the values are pinned). After a failure,
 *   bitnet_last_error() returns a message for the calling thread that says what was wrong
 *   (file offset, tensor name, expected versus actual value).
 * - Constructors take their parameters by pointer and return the new object through an out
 *   pointer, which is set to NULL on failure. Passing NULL parameters means "defaults".
 * - Parameter structs start with `struct_size`; fill them with the matching *_default_params()
 *   function and then change the fields you need. New fields are only ever added at the end, so
 *   a program compiled against an older header keeps working with a newer library. Every
 *   parameter struct is read by the same rules:
 *     - the library reads the first `struct_size` bytes and nothing after them; each field that
 *       lies beyond them (one added after the caller's header) takes its documented default;
 *     - a `struct_size` smaller than sizeof(size_t) (the struct_size member itself) fails with
 *       BITNET_ERR_INVALID_ARGUMENT;
 *     - a `struct_size` larger than the library's own struct (a program built against a newer
 *       header, possibly setting fields this library would ignore) also fails with
 *       BITNET_ERR_INVALID_ARGUMENT rather than silently dropping those fields: fill the struct
 *       with *_default_params() of the library the program runs with, which sets struct_size
 *       to that library's size.
 * - Every *_free(NULL) is a no-op.
 * - No function aborts, asserts or lets a C++ exception escape. An unexpected internal failure
 *   returns BITNET_ERR_INTERNAL and is logged with a backtrace.
 *
 * Threading contract
 * ------------------
 * - A bitnet_model is immutable after loading. Any number of threads may use one model at the
 *   same time, and any number of contexts may share it. Free it only after every context made
 *   from it has been freed.
 * - A bitnet_context, bitnet_batch or bitnet_sampler belongs to one thread at a time. Using the
 *   same one from two threads at once needs the caller's own lock.
 * - The log callback may be called from any thread; the library serialises the calls.
 * - bitnet_last_error() is per thread.
 *
 * Stable and experimental API
 * ---------------------------
 * Everything outside the BITNET_EXPERIMENTAL section at the end of this header is stable within
 * a major version (the SONAME is libbitnet.so.MAJOR). Declarations inside it are only visible
 * when BITNET_EXPERIMENTAL is defined before including this header, and may change in any
 * release.
 */
#ifndef BITNET_H
#define BITNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(BITNET_SHARED)
#  if defined(BITNET_BUILD)
#    define BITNET_API __declspec(dllexport)
#  else
#    define BITNET_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define BITNET_API __attribute__((visibility("default")))
#else
#  define BITNET_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */

#define BITNET_VERSION_MAJOR 0
#define BITNET_VERSION_MINOR 1
#define BITNET_VERSION_PATCH 0
#define BITNET_VERSION_NUMBER \
    (BITNET_VERSION_MAJOR * 10000 + BITNET_VERSION_MINOR * 100 + BITNET_VERSION_PATCH)

/* The library's version as "MAJOR.MINOR.PATCH". Compare with the macros above to detect a
 * header/library mismatch. */
BITNET_API const char *bitnet_version(void);

/* The library's BITNET_VERSION_NUMBER (MAJOR * 10000 + MINOR * 100 + PATCH), for a numeric check
 * that the library a program runs with is the one its header describes:
 *     assert(bitnet_version_number() == BITNET_VERSION_NUMBER);
 * or, to accept any newer library of the same major version (same SONAME):
 *     bitnet_version_number() / 10000 == BITNET_VERSION_MAJOR &&
 *     bitnet_version_number() >= BITNET_VERSION_NUMBER */
BITNET_API int bitnet_version_number(void);

/* A one-line description of how the library was built: compiler, the CPU kernel variants it
 * carries and the one selected on this machine, and the backends compiled in. */
BITNET_API const char *bitnet_build_info(void);

/* ---------------------------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------------------------- */

typedef enum bitnet_status {
    BITNET_OK                   = 0,
    BITNET_ERR_INVALID_ARGUMENT = 1,  /* a NULL handle or pointer, or a parameter out of range */
    BITNET_ERR_IO               = 2,  /* a file could not be opened, read, mapped or written */
    BITNET_ERR_INVALID_MODEL    = 3,  /* the model file is malformed or inconsistent */
    BITNET_ERR_UNSUPPORTED      = 4,  /* a known feature this build cannot run (type, arch) */
    BITNET_ERR_OUT_OF_MEMORY    = 5,  /* an allocation failed or a caller buffer is too small */
    BITNET_ERR_CANCELLED        = 6,  /* a progress callback asked to stop */
    BITNET_ERR_CONTEXT_FULL     = 7,  /* no room left in the KV cache for this batch */
    BITNET_ERR_INVALID_INPUT    = 8,  /* bad token id, position, sequence id or batch size */
    BITNET_ERR_ABORTED          = 9,  /* the abort callback stopped a decode */
    BITNET_ERR_BACKEND          = 10, /* the compute backend (e.g. the GPU) failed */
    BITNET_ERR_BUFFER_TOO_SMALL = 11, /* an output buffer cannot hold the result */
    BITNET_ERR_INVALID_STATE    = 12, /* a saved state is corrupt or belongs to another model */
    BITNET_ERR_INTERNAL         = 99  /* a bug: please report it with the logged backtrace */
} bitnet_status;

/* A short constant English name for a status ("invalid model"); never NULL. */
BITNET_API const char *bitnet_status_string(bitnet_status status);

/* The message describing the last failure on the calling thread, or "" if none. The pointer
 * stays valid until the next failing call on the same thread. */
BITNET_API const char *bitnet_last_error(void);

/* The status of the last failure on the calling thread (BITNET_OK if none yet). Functions that
 * report failure through their return value alone (a count of BITNET_COUNT_ERROR, a NULL pointer,
 * BITNET_TOKEN_NULL) set it together with the message, so bindings can map those failures too. */
BITNET_API bitnet_status bitnet_last_status(void);

/* ---------------------------------------------------------------------------------------------
 * Logging. Quiet by default: nothing is printed until a callback is installed.
 * ------------------------------------------------------------------------------------------- */

typedef enum bitnet_log_level {
    BITNET_LOG_ERROR = 0,
    BITNET_LOG_WARN  = 1,
    BITNET_LOG_INFO  = 2,
    BITNET_LOG_DEBUG = 3
} bitnet_log_level;

/* `message` is one line without a trailing newline, valid only during the call. */
typedef void (*bitnet_log_callback)(bitnet_log_level level, const char *message, void *user_data);

/* Install (or with NULL remove) the process-wide log callback. Messages above `max_level` are
 * not formatted at all. Calls into the callback are serialised by the library. */
BITNET_API void bitnet_set_log_callback(bitnet_log_callback callback, bitnet_log_level max_level,
                                        void *user_data);

/* A ready-made callback that writes "bitnet: LEVEL: message" lines to stderr. */
BITNET_API void bitnet_log_to_stderr(bitnet_log_level level, const char *message, void *user_data);

/* ---------------------------------------------------------------------------------------------
 * Opaque handles
 * ------------------------------------------------------------------------------------------- */

typedef struct bitnet_model bitnet_model;
typedef struct bitnet_context bitnet_context;
typedef struct bitnet_batch bitnet_batch;
typedef struct bitnet_sampler bitnet_sampler;

typedef int32_t bitnet_token;

/* ---------------------------------------------------------------------------------------------
 * Models
 * ------------------------------------------------------------------------------------------- */

/* Called during loading with progress in [0, 1]. Return false to cancel the load, which then
 * fails with BITNET_ERR_CANCELLED. */
typedef bool (*bitnet_progress_callback)(float progress, void *user_data);

/* Storage type of the lm_head used at run time (see bitnet_model_params.head_type). On the CPU a
 * Q8_0, Q6_K or Q4_0 head multiplies int8 activations (quantized per output token in blocks of 32)
 * when bitnet_context_params.quantize_activations is true; bench/RESULTS.md has its KL divergence. */
typedef enum bitnet_head_type {
    BITNET_HEAD_AS_STORED = 0, /* use the file's type for the output projection */
    BITNET_HEAD_F16       = 1,
    BITNET_HEAD_Q8_0      = 2,
    BITNET_HEAD_Q6_K      = 3,
    BITNET_HEAD_Q4_0      = 4
} bitnet_head_type;

typedef struct bitnet_model_params {
    size_t struct_size;                         /* sizeof(bitnet_model_params) */
    bitnet_progress_callback progress_callback; /* may be NULL */
    void *progress_user_data;
    bitnet_head_type head_type;                 /* default BITNET_HEAD_AS_STORED */
    bool vocab_only;                            /* load metadata and tokenizer, no weights */
    /* bitnet_model_load_file only. true (default): map the file and compute on its pages in
     * place (fast start, pages shared with other processes). false: read the whole file into
     * memory owned by the model first (slower start, one private copy); on machines where
     * streaming from mapped page-cache pages is slow (bench/RESULTS.md), decoding is faster.
     * With a mapping, the file must not be truncated or rewritten in place while the model is
     * loaded: the operating system signals a read of a page past a shortened file's end (SIGBUS),
     * which ends the process. bitnet_context_new() and bitnet_decode() check the file's size
     * first and fail with BITNET_ERR_IO instead when it shrank, but a truncation during a decode
     * can still fault. Replacing the file by renaming a new one over it is safe (the mapping keeps
     * the old file); use_mmap = false makes the model independent of the file altogether. */
    bool use_mmap;
    /* Read the GGUF header, metadata and tensor table only: no tokenizer, no weights, and nothing
     * the engine cannot run is refused (an unknown architecture, missing hyperparameters, tensor
     * types it does not support or does not know: see bitnet_tensor_info.unrunnable). Any
     * well-formed GGUF file opens; a malformed one still fails. For tools that show a file
     * (`bitnet inspect`); bitnet_model_runnable() says whether and why not the engine could run it.
     * Contexts cannot be made from such a model. Default false. */
    bool metadata_only;
    /* bitnet_model_load_file only. Default false. true: lock the model's bytes in physical memory
     * at load (mlock; the mapped file's pages with use_mmap, the private copy without), so the
     * operating system never reclaims them and a decode never waits for a page to be read back.
     * It pins the whole file (bitnet_model_file_size bytes, e.g. 1.1 GiB for 2B-4T) until
     * bitnet_model_free(), and the load takes longer (every page is read in first). A mapping
     * stays zero-copy and shared: other processes mapping the same file use the same pages.
     * Worth it where memory pressure or a reclaim daemon evicts page-cache pages (bench/RESULTS.md
     * measured a 0.8x decode speed from that on one VM class); without such pressure the pages
     * stay resident anyway. Why the default is a plain mapping (bench/RESULTS.md, three
     * interleaved rounds, 2B-4T shape, 2 threads): decode ran at 27.1 t/s mapped, 24.9 locked
     * and 25.0 read into memory (within run-to-run noise of each other), while the time to the
     * first token was 0.51 s mapped, 0.46 s locked and 3.3 s read into memory. Locking needs RLIMIT_MEMLOCK >= the file size (`ulimit -l`; often
     * 8 MiB for unprivileged users) or CAP_IPC_LOCK: when the OS refuses, the load still
     * succeeds, unlocked, and a BITNET_LOG_WARN message says why and what to change. */
    bool use_mlock;
} bitnet_model_params;

BITNET_API bitnet_model_params bitnet_model_default_params(void);

/* Map a GGUF file read-only and load the model from it. Weight data is used in place from the
 * mapping whenever its stored layout can be computed on directly. */
BITNET_API bitnet_status bitnet_model_load_file(const char *path, const bitnet_model_params *params,
                                                bitnet_model **out_model);

/* Load from a GGUF image in the caller's memory, without copying it: the memory must stay valid
 * and unchanged until bitnet_model_free(). It must be at least 8-byte aligned. */
BITNET_API bitnet_status bitnet_model_load_memory(const void *data, size_t size,
                                                  const bitnet_model_params *params,
                                                  bitnet_model **out_model);

BITNET_API void bitnet_model_free(bitnet_model *model);

/* Model queries. On a NULL model the string queries return "" and the numeric ones 0. */
BITNET_API const char *bitnet_model_architecture(const bitnet_model *model); /* general.architecture */
BITNET_API const char *bitnet_model_name(const bitnet_model *model);         /* general.name or "" */
BITNET_API uint64_t bitnet_model_n_params(const bitnet_model *model);
BITNET_API uint64_t bitnet_model_file_size(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_layer(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_embd(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_head(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_head_kv(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_ff(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_vocab(const bitnet_model *model);
BITNET_API int32_t bitnet_model_n_ctx_train(const bitnet_model *model);
BITNET_API float bitnet_model_rope_freq_base(const bitnet_model *model);
BITNET_API int64_t bitnet_model_n_tensors(const bitnet_model *model);

/* Render the metadata value stored under `key` as text into buf (always NUL-terminated when
 * capacity > 0). Numbers are printed in decimal, booleans as true/false, arrays as
 * "[a, b, ...]" (long arrays abbreviated). Returns the length of the full rendering (excluding
 * the NUL), which may exceed capacity - 1, or -1 if the key does not exist. */
BITNET_API int64_t bitnet_model_meta_value(const bitnet_model *model, const char *key, char *buf,
                                           size_t capacity);

/* Number of metadata keys, and the key at index i (NULL when out of range). */
BITNET_API int64_t bitnet_model_meta_count(const bitnet_model *model);
BITNET_API const char *bitnet_model_meta_key(const bitnet_model *model, int64_t i);

/* ---------------------------------------------------------------------------------------------
 * Model file contents: metadata values by index and the tensor table, for tools that list or
 * check what a file holds (e.g. `bitnet inspect`). Nothing here is needed to run a model. These
 * functions only read the loaded model, so any thread may call them at any time.
 * ------------------------------------------------------------------------------------------- */

/* Render the value of the metadata key at `index` (0 <= index < bitnet_model_meta_count()) as
 * bitnet_model_meta_value() does, but show at most `max_array_elements` elements of an array
 * (the rest as "... (N total)"; 0 shows only the count). Returns the length of the full
 * rendering (excluding the NUL), which may exceed capacity - 1, or -1 on failure: a NULL model,
 * an index out of range, a negative max_array_elements, or a NULL buf with capacity > 0
 * (bitnet_last_error() says which). */
BITNET_API int64_t bitnet_model_meta_value_by_index(const bitnet_model *model, int64_t index,
                                                    int64_t max_array_elements, char *buf,
                                                    size_t capacity);

/* One entry of the tensor table, as stored in the model's GGUF file. Unlike the parameter
 * structs, the library writes this one: set struct_size to sizeof(bitnet_tensor_info) before the
 * call. The library fills only the fields that fit in struct_size, so a program built against
 * this header keeps working when a later version appends fields. */
typedef struct bitnet_tensor_info {
    size_t struct_size;    /* set by the caller: sizeof(bitnet_tensor_info) */
    const char *name;      /* e.g. "blk.0.attn_q.weight"; valid until bitnet_model_free() */
    const char *type_name; /* storage type as the engine spells it: "f32", "f16", "i2_s",
                              "tq2_0", ...; a static string */
    int32_t n_dims;        /* 1 to 4 */
    int64_t dims[4];       /* elements per dimension, dims[0] the row length (GGUF ne0); the
                              entries past n_dims are 1 */
    uint64_t data_offset;  /* where the tensor's data starts, in bytes from the start of the file
                              (or of the memory image given to bitnet_model_load_memory) */
    uint64_t n_bytes;      /* size of the tensor's data in the file, in bytes */
    /* Fields below were added in a later version; set struct_size to receive them. */
    uint32_t file_type_id; /* the ggml type id stored in the file */
    /* NULL when the engine can run this tensor's type. Otherwise (only in a model opened with
     * metadata_only) why it cannot, e.g. "type IQ2_XXS (id 16) is not supported (...)"; type_name is
     * then ggml's name for the id ("iq2_xxs") or "unknown", and n_bytes the tensor's extent in the
     * file (up to the next tensor's data). Valid until bitnet_model_free(). */
    const char *unrunnable;
} bitnet_tensor_info;

/* Describe the tensor at `index` (0 <= index < bitnet_model_n_tensors(), in file order) in *out.
 * Works on models loaded with vocab_only as well: the table is the file's. Returns BITNET_OK, or
 * BITNET_ERR_INVALID_ARGUMENT for a NULL model, a NULL out, an out->struct_size smaller than the
 * first version of the struct (through n_bytes), or an index out of range; *out is then left
 * unchanged. */
BITNET_API bitnet_status bitnet_model_tensor_info(const bitnet_model *model, int64_t index,
                                                  bitnet_tensor_info *out);

/* Whether the engine can run this model's file: BITNET_OK when a full load (not metadata_only,
 * not vocab_only) of the same file succeeds, else the status that load fails with, and
 * bitnet_last_error() says which tensor, key or value stops it and why (e.g. "model: tensor
 * 'blk.0.ffn_down.weight' ..." or "gguf: tensor '...': type IQ2_XXS (id 16) is not supported").
 * For a model opened with metadata_only or vocab_only this validates the file as a load would,
 * without keeping anything (a float model's projections are not repacked); for a fully loaded
 * model it returns BITNET_OK at once. BITNET_ERR_INVALID_ARGUMENT for a NULL model. */
BITNET_API bitnet_status bitnet_model_runnable(const bitnet_model *model);

/* ---------------------------------------------------------------------------------------------
 * Contexts: the KV cache, scratch memory and outputs of one or more sequences.
 * ------------------------------------------------------------------------------------------- */

typedef enum bitnet_kv_type {
    BITNET_KV_F16 = 0, /* default: half the memory, what other engines use */
    BITNET_KV_F32 = 1
} bitnet_kv_type;

/* Vulkan keeps a model's weights on the device in their stored types, except projections in the
 * types llama.cpp's quantizer falls back to (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, IQ4_NL),
 * which are uploaded dequantized to f32: 4 bytes per weight instead of 0.3 to 0.9 (e.g. 26
 * ffn_down tensors of 8640 x 3200 in Q5_0 take 2.9 GB of device memory instead of 0.5 GB). The CPU
 * backend decodes those rows on the fly and keeps no copy. */
typedef enum bitnet_backend_type {
    BITNET_BACKEND_AUTO   = 0, /* Vulkan if device_index is a real GPU (not CPU-emulated, e.g. lavapipe), else CPU */
    BITNET_BACKEND_CPU    = 1,
    BITNET_BACKEND_VULKAN = 2
} bitnet_backend_type;

/* Called between layers during bitnet_decode(); return true to abort the decode, which then
 * returns BITNET_ERR_ABORTED and leaves the context as it was before the call. */
typedef bool (*bitnet_abort_callback)(void *user_data);

typedef struct bitnet_context_params {
    size_t struct_size;       /* sizeof(bitnet_context_params) */
    uint32_t n_ctx;           /* KV cache cells (tokens) over all sequences; 0 = model's n_ctx_train, at most 4096 */
    uint32_t n_batch;         /* most tokens one bitnet_decode() call may carry; default 512;
                                 0 = the default; larger than n_ctx = n_ctx */
    uint32_t n_seq_max;       /* sequence ids are 0 .. n_seq_max-1; at most 64; default 1; 0 = 1 */
    uint32_t n_outputs_max;   /* most batch entries per call that may ask for logits; 0 = n_seq_max;
                                 larger than n_batch = n_batch */
    int32_t n_threads;        /* CPU threads; 0 = one per CPU the process may use (its affinity
                                 mask); more than that runs with one per CPU and logs a warning;
                                 negative fails */
    bitnet_kv_type kv_type;   /* default BITNET_KV_F16 */
    bool quantize_activations;/* true (default): exact BitNet int8 activations. false: float
                                 activations into the same ternary weights, for analysis */
    bool embeddings;          /* also keep the final hidden state of every output entry */
    bitnet_abort_callback abort_callback; /* may be NULL */
    void *abort_user_data;
    void *buffer;             /* optional caller memory for every large allocation of the context */
    size_t buffer_size;       /* at least bitnet_context_memory_required(); 64-byte aligned buffer */
    bitnet_backend_type backend; /* default BITNET_BACKEND_AUTO */
    int32_t device_index;     /* Vulkan device, default 0 */
} bitnet_context_params;

BITNET_API bitnet_context_params bitnet_context_default_params(void);

/* Bytes of memory a context with these parameters needs (KV cache, scratch and outputs); the
 * size `buffer` must have when the caller supplies it. 0 on error (see bitnet_last_error()). */
BITNET_API size_t bitnet_context_memory_required(const bitnet_model *model,
                                                 const bitnet_context_params *params);

/* All memory is reserved here: bitnet_decode() never allocates. */
BITNET_API bitnet_status bitnet_context_new(const bitnet_model *model,
                                            const bitnet_context_params *params,
                                            bitnet_context **out_context);
BITNET_API void bitnet_context_free(bitnet_context *context);

BITNET_API uint32_t bitnet_context_n_ctx(const bitnet_context *context);
BITNET_API uint32_t bitnet_context_n_batch(const bitnet_context *context);
BITNET_API const bitnet_model *bitnet_context_model(const bitnet_context *context);
/* A short description of the compute backend in use ("cpu avx512, 2 threads"). */
BITNET_API const char *bitnet_context_backend_name(const bitnet_context *context);

/* ---------------------------------------------------------------------------------------------
 * Batches and decoding
 * ------------------------------------------------------------------------------------------- */

/* A batch holds up to `capacity` entries (token, position, sequence ids, wants logits). */
BITNET_API bitnet_status bitnet_batch_new(int32_t capacity, bitnet_batch **out_batch);
BITNET_API void bitnet_batch_clear(bitnet_batch *batch);
/* Append one entry. The token belongs to `n_seq_ids` sequences (at least 1; a prompt shared by
 * several sequences is stored once). Fails with BITNET_ERR_BUFFER_TOO_SMALL when the batch is
 * full. Token ids, positions and sequence ids are checked by bitnet_decode(). */
BITNET_API bitnet_status bitnet_batch_add(bitnet_batch *batch, bitnet_token token, int32_t pos,
                                          const int32_t *seq_ids, int32_t n_seq_ids, bool want_logits);
BITNET_API int32_t bitnet_batch_size(const bitnet_batch *batch);
BITNET_API void bitnet_batch_free(bitnet_batch *batch);

/* Run the model over a batch: prompt chunks and single tokens of several sequences may be mixed.
 * Each entry's position must continue its sequences (0 for an empty sequence, else the
 * sequence's last position + 1, consecutive within the batch).
 * Returns BITNET_OK; BITNET_ERR_CONTEXT_FULL when the KV cache has no room for the batch;
 * BITNET_ERR_INVALID_INPUT for a token id >= n_vocab, a position that does not continue its
 * sequence, a sequence id >= n_seq_max, more entries than n_batch, or more logits requested
 * than n_outputs_max; BITNET_ERR_ABORTED when the abort callback stopped it;
 * BITNET_ERR_BACKEND when the compute backend failed. On every failure the context is unchanged
 * (its KV cache, and the outputs of the previous successful call). */
BITNET_API bitnet_status bitnet_decode(bitnet_context *context, const bitnet_batch *batch);

/* Logits (n_vocab floats) of batch entry `i` of the last successful decode, which must have
 * asked for them; i = -1 means the last entry that did. NULL on error. Valid until the next
 * bitnet_decode() on this context. */
BITNET_API const float *bitnet_get_logits(bitnet_context *context, int32_t i);
/* The final hidden state (after the output norm, n_embd floats) of entry `i`, when the context
 * was created with `embeddings`. Same rules as bitnet_get_logits(). */
BITNET_API const float *bitnet_get_embeddings(bitnet_context *context, int32_t i);

/* ---------------------------------------------------------------------------------------------
 * Sequence memory: editing what the KV cache holds. Positions are token positions within a
 * sequence; ranges are half-open [p0, p1), and p1 < 0 means "to the end". A cell shared by
 * several sequences (after bitnet_seq_cp) is one copy of the data: removing it from one sequence
 * keeps it for the others, and bitnet_seq_add moves it for all of them.
 * ------------------------------------------------------------------------------------------- */

/* Empty the whole KV cache. */
BITNET_API bitnet_status bitnet_memory_clear(bitnet_context *context);
/* Remove positions [p0, p1) of sequence `seq` (seq < 0: of every sequence). */
BITNET_API bitnet_status bitnet_seq_rm(bitnet_context *context, int32_t seq, int32_t p0, int32_t p1);
/* Make positions [p0, p1) of `src` part of `dst` too, sharing the cached data (no copy). */
BITNET_API bitnet_status bitnet_seq_cp(bitnet_context *context, int32_t src, int32_t dst, int32_t p0, int32_t p1);
/* Remove every sequence but `seq`. */
BITNET_API bitnet_status bitnet_seq_keep(bitnet_context *context, int32_t seq);
/* Add `delta` to positions [p0, p1) of `seq`, re-rotating the cached keys so attention sees the
 * new positions; cells moved below position 0 are removed. The building block of context
 * shifting: drop a range with bitnet_seq_rm, then move the rest down with a negative delta. */
BITNET_API bitnet_status bitnet_seq_add(bitnet_context *context, int32_t seq, int32_t p0, int32_t p1,
                                        int32_t delta);
/* Smallest and largest position of `seq` in the cache, or -1 when it holds none. */
BITNET_API int32_t bitnet_seq_pos_min(const bitnet_context *context, int32_t seq);
BITNET_API int32_t bitnet_seq_pos_max(const bitnet_context *context, int32_t seq);

/* ---------------------------------------------------------------------------------------------
 * State: saving and restoring a context (its KV cache and last outputs), or one sequence.
 * Format: magic "BNST", format version, kind, a fingerprint of the model (xxh3-64 of its GGUF
 * metadata and tensor table and of samples of its tensor data), the zstd-compressed payload, and an xxh3-64 checksum of all the
 * bytes before it. A state from another model, or truncated or corrupted, is rejected with
 * BITNET_ERR_INVALID_STATE and a message saying what did not match; the target context is then
 * left untouched.
 * ------------------------------------------------------------------------------------------- */

/* An upper bound of the bytes bitnet_state_save() writes for the context as it is now. */
BITNET_API size_t bitnet_state_size(const bitnet_context *context);
/* Save the whole context into buf; *written receives the size. BITNET_ERR_BUFFER_TOO_SMALL when
 * capacity is less than needed (use bitnet_state_size()). */
BITNET_API bitnet_status bitnet_state_save(bitnet_context *context, void *buf, size_t capacity, size_t *written);
/* Replace the context's whole state by a saved one. The context must have the same model and KV
 * type, room for the saved cells and every saved sequence id below its n_seq_max. */
BITNET_API bitnet_status bitnet_state_load(bitnet_context *context, const void *data, size_t size);
BITNET_API bitnet_status bitnet_state_save_file(bitnet_context *context, const char *path);
BITNET_API bitnet_status bitnet_state_load_file(bitnet_context *context, const char *path);

/* One sequence: its cells only (no logits). Loading replaces sequence `dst_seq` of the target. */
BITNET_API size_t bitnet_state_seq_size(const bitnet_context *context, int32_t seq);
BITNET_API bitnet_status bitnet_state_seq_save(bitnet_context *context, int32_t seq, void *buf, size_t capacity,
                                               size_t *written);
BITNET_API bitnet_status bitnet_state_seq_load(bitnet_context *context, int32_t dst_seq, const void *data,
                                               size_t size);
BITNET_API bitnet_status bitnet_state_seq_save_file(bitnet_context *context, int32_t seq, const char *path);
BITNET_API bitnet_status bitnet_state_seq_load_file(bitnet_context *context, int32_t dst_seq, const char *path);

/* ---------------------------------------------------------------------------------------------
 * Sampling
 *
 * A sampler turns a row of logits into the next token. Samplers are built from small members
 * put in a chain, in the order they run; this follows llama.cpp's sampler chain:
 *
 *     bitnet_sampler *chain = NULL, *member = NULL;
 *     bitnet_sampler_chain_new(NULL, &chain);
 *     bitnet_sampler_init_penalties(64, 1.1f, 0.0f, 0.0f, &member); bitnet_sampler_chain_add(chain, member);
 *     bitnet_sampler_init_top_k(40, &member);                       bitnet_sampler_chain_add(chain, member);
 *     bitnet_sampler_init_top_p(0.95f, 1, &member);                 bitnet_sampler_chain_add(chain, member);
 *     bitnet_sampler_init_min_p(0.05f, 1, &member);                 bitnet_sampler_chain_add(chain, member);
 *     bitnet_sampler_init_temperature(0.8f, &member);               bitnet_sampler_chain_add(chain, member);
 *     bitnet_sampler_init_dist(42, &member);                        bitnet_sampler_chain_add(chain, member);
 *     ... after each bitnet_decode():
 *     bitnet_token next = bitnet_sampler_sample(chain, context, -1);
 *     ...
 *     bitnet_sampler_free(chain); (frees the members too)
 *
 * How a sample is made: every token of the vocabulary becomes a candidate {id, logit, p}; each
 * member, in chain order, reorders, rescales or drops candidates, and the last one selects one
 * (greedy or dist). Transforming members never select; a chain whose last member leaves no
 * selection cannot sample. Order matters where a member looks at probabilities: top-p, min-p
 * and typical-p after temperature see the tempered distribution (a temperature above 1 keeps
 * more tokens), before it the raw one. Top-k and a positive temperature commute. Penalties and
 * logit bias should come first: they change the logits that the truncating members then rank.
 *
 * Same seed, same tokens: a chain built the same way, given the same logits and the same history,
 * returns the same tokens on every run. The random stream and the tie-breaking (equal logits rank
 * by lower token id) do not depend on the platform; only the last bit of the C library's exp()
 * may.
 *
 * A sampler, chain or member, belongs to one thread at a time (see the threading contract). No
 * call allocates memory after a chain's first sample for a given vocabulary size.
 * ------------------------------------------------------------------------------------------- */

/* A dist seed that means "draw a random seed from the operating system". */
#define BITNET_DEFAULT_SEED 0xFFFFFFFFu

/* One candidate token: its logit and, once a member has computed it, its probability p (the
 * softmax over the current candidates; stale after a member changes logits). */
typedef struct bitnet_token_data {
    bitnet_token id;
    float logit;
    float p;
} bitnet_token_data;

/* The candidates a sampler works on. `selected` is the index in `data` of the chosen entry, or
 * -1 while none is chosen. `sorted` is true when `data` is in descending order of logit. */
typedef struct bitnet_token_data_array {
    bitnet_token_data *data;
    size_t size;
    int64_t selected;
    bool sorted;
} bitnet_token_data_array;

typedef struct bitnet_sampler_chain_params {
    size_t struct_size; /* sizeof(bitnet_sampler_chain_params) */
    bool no_perf;       /* true: do not time bitnet_sampler_sample() (default false) */
} bitnet_sampler_chain_params;

BITNET_API bitnet_sampler_chain_params bitnet_sampler_chain_default_params(void);

/* An empty chain. Add members with bitnet_sampler_chain_add(); a chain is itself a sampler and
 * may be a member of another chain. */
BITNET_API bitnet_status bitnet_sampler_chain_new(const bitnet_sampler_chain_params *params,
                                                  bitnet_sampler **out_chain);

/* Append `member` to the end of `chain`. On success the chain owns the member and frees it with
 * itself; do not free it yourself. On failure (NULL arguments, `chain` is not a chain, `member`
 * already belongs to a chain, or adding it would put a chain inside itself) nothing changes and
 * the caller still owns `member`. */
BITNET_API bitnet_status bitnet_sampler_chain_add(bitnet_sampler *chain, bitnet_sampler *member);

/* Number of members of a chain (0 for NULL or a sampler that is not a chain), and member i
 * (NULL when out of range). The member stays owned by the chain. */
BITNET_API int32_t bitnet_sampler_chain_n(const bitnet_sampler *chain);
BITNET_API bitnet_sampler *bitnet_sampler_chain_get(const bitnet_sampler *chain, int32_t i);

/* Member samplers. Each constructor returns a new sampler through `out_sampler`: add it to a
 * chain, or use it alone with bitnet_sampler_apply(). Out-of-range parameters (NaN anywhere)
 * fail with BITNET_ERR_INVALID_ARGUMENT. */

/* Selects the candidate with the highest logit (the lowest id among equals). */
BITNET_API bitnet_status bitnet_sampler_init_greedy(bitnet_sampler **out_sampler);

/* Selects a candidate at random with probability softmax(logits) over the current candidates.
 * The random stream is a 32-bit Mersenne Twister seeded with `seed` (BITNET_DEFAULT_SEED: a
 * seed from the operating system; bitnet_sampler_get_seed() tells which). Fails at sampling time
 * with BITNET_ERR_INVALID_INPUT when every candidate's logit is -infinity. */
BITNET_API bitnet_status bitnet_sampler_init_dist(uint32_t seed, bitnet_sampler **out_sampler);

/* Divides every logit by `temperature` (finite). temperature <= 0 keeps only the candidate with
 * the highest logit, so any later selecting member picks it. */
BITNET_API bitnet_status bitnet_sampler_init_temperature(float temperature, bitnet_sampler **out_sampler);

/* Keeps the k candidates with the highest logits, sorted; k <= 0 keeps all (and does nothing). */
BITNET_API bitnet_status bitnet_sampler_init_top_k(int32_t k, bitnet_sampler **out_sampler);

/* Nucleus sampling: keeps the smallest set of most probable candidates whose probabilities sum
 * to at least p, and at least max(min_keep, 1) of them. p in [0, 1]; p = 1 does nothing. */
BITNET_API bitnet_status bitnet_sampler_init_top_p(float p, size_t min_keep, bitnet_sampler **out_sampler);

/* Keeps the candidates whose probability is at least p times that of the most probable one,
 * and at least max(min_keep, 1) of them (the most probable). p in [0, 1]; p = 0 does nothing. */
BITNET_API bitnet_status bitnet_sampler_init_min_p(float p, size_t min_keep, bitnet_sampler **out_sampler);

/* Locally typical sampling (Meister et al. 2022): orders the candidates by how far their
 * information -log(p) is from the entropy of the distribution, closest first, and keeps the
 * shortest such prefix whose probabilities sum to more than p, and at least max(min_keep, 1).
 * p in [0, 1]; p = 1 does nothing. The kept candidates are not in logit order. */
BITNET_API bitnet_status bitnet_sampler_init_typical(float p, size_t min_keep, bitnet_sampler **out_sampler);

/* Penalties on tokens among the last `last_n` accepted ones (last_n >= 0; 0 disables), with
 * llama.cpp's semantics. For a token seen `count` > 0 times in that window:
 *   repetition: a positive logit is divided by `repeat`, a negative one multiplied (repeat > 0;
 *               1 disables);
 *   then        logit -= count * frequency + presence   (0 and 0 disable).
 * The window fills from bitnet_sampler_accept() and from tokens that bitnet_sampler_sample()
 * returns; feed it the prompt's tokens with bitnet_sampler_accept() if they should count. */
BITNET_API bitnet_status bitnet_sampler_init_penalties(int32_t last_n, float repeat, float frequency,
                                                       float presence, bitnet_sampler **out_sampler);

typedef struct bitnet_logit_bias {
    bitnet_token token;
    float bias; /* added to the token's logit; finite, or -INFINITY to ban the token */
} bitnet_logit_bias;

/* Adds each bias to its token's logit (biases of a repeated token add up). Every token must be in
 * [0, n_vocab). The array is copied; `biases` may be NULL when n_biases is 0. The sampler (and a
 * chain holding it) belongs to that vocabulary: sampling logits of another size fails with
 * BITNET_ERR_INVALID_ARGUMENT, as does adding it to a chain built for another size. */
BITNET_API bitnet_status bitnet_sampler_init_logit_bias(int32_t n_vocab, const bitnet_logit_bias *biases,
                                                        int32_t n_biases, bitnet_sampler **out_sampler);

/* A sampler written by the caller. Set `version` to BITNET_SAMPLER_CALLBACKS_VERSION; a struct
 * of another version is rejected with BITNET_ERR_INVALID_ARGUMENT. Every callback gets
 * `user_data`. `apply` is required, the others may be NULL:
 *   name   - a constant string naming the sampler ("custom" when NULL);
 *   accept - a token was chosen (see bitnet_sampler_accept());
 *   apply  - transform the candidates and/or select one (set `selected`). It may reorder
 *            entries, change logits and p, shrink `size`, and must clear `sorted` if the
 *            entries may no longer be in descending logit order. It must not grow `size` or
 *            replace `data` (the call then fails with BITNET_ERR_INVALID_ARGUMENT), nor leave
 *            a NaN logit (BITNET_ERR_INVALID_INPUT);
 *   reset  - forget any history;
 *   free   - release user_data; called once, when the sampler is freed (also by its chain).
 * The struct is copied. If bitnet_sampler_init_custom() fails, `free` is not called. */
#define BITNET_SAMPLER_CALLBACKS_VERSION 1

typedef struct bitnet_sampler_callbacks {
    uint32_t version;
    const char *(*name)(void *user_data);
    void (*accept)(void *user_data, bitnet_token token);
    void (*apply)(void *user_data, bitnet_token_data_array *candidates);
    void (*reset)(void *user_data);
    void (*free)(void *user_data);
    void *user_data;
} bitnet_sampler_callbacks;

BITNET_API bitnet_status bitnet_sampler_init_custom(const bitnet_sampler_callbacks *callbacks,
                                                    bitnet_sampler **out_sampler);

/* Sample the next token from the logits of batch entry `i` of the context's last decode (i = -1:
 * the last entry that asked for logits; see bitnet_get_logits()). The sampler (usually a chain)
 * runs over all n_vocab tokens, and the chosen token is then accepted into it, as by
 * bitnet_sampler_accept(): do not accept it again. Returns the token, or BITNET_TOKEN_NULL on
 * failure with bitnet_last_error() set: NULL arguments, no logits for entry i, a logit that is
 * NaN or +infinity, no candidate left, or a chain that selected nothing (a chain must end with
 * greedy, dist or a custom member that selects). */
BITNET_API bitnet_token bitnet_sampler_sample(bitnet_sampler *sampler, bitnet_context *context, int32_t i);

/* The same, from the caller's `n_vocab` logits (token i has logits[i]). */
BITNET_API bitnet_token bitnet_sampler_sample_logits(bitnet_sampler *sampler, const float *logits,
                                                     int32_t n_vocab);

/* Run a sampler (a member or a whole chain) over the caller's candidates, in place, without
 * accepting anything. Set `selected` to -1 and `sorted` truthfully before the call. A NaN logit
 * fails with BITNET_ERR_INVALID_INPUT. */
BITNET_API bitnet_status bitnet_sampler_apply(bitnet_sampler *sampler, bitnet_token_data_array *candidates);

/* Tell a sampler (a chain tells every member) that `token` (>= 0) was chosen: penalties add it
 * to their window, custom samplers get their accept callback. */
BITNET_API bitnet_status bitnet_sampler_accept(bitnet_sampler *sampler, bitnet_token token);

/* Start over for a new generation: penalties forget their window, dist samplers restart their
 * random stream from their seed (a BITNET_DEFAULT_SEED sampler draws a new one), custom samplers
 * get their reset callback. A chain resets every member. NULL is a no-op. */
BITNET_API void bitnet_sampler_reset(bitnet_sampler *sampler);

/* "chain", "greedy", "dist", "temperature", "top-k", "top-p", "min-p", "typical",
 * "penalties", "logit-bias", or a custom sampler's name; "" for NULL. */
BITNET_API const char *bitnet_sampler_name(const bitnet_sampler *sampler);

/* The seed in use by a dist sampler, or by the first dist member of a chain (searched in order,
 * nested chains included); BITNET_DEFAULT_SEED when there is none. */
BITNET_API uint32_t bitnet_sampler_get_seed(const bitnet_sampler *sampler);

/* (A chain's sampling time, bitnet_sampler_perf(), is in the experimental section at the end.) */

/* Free a sampler; a chain frees its members. NULL is a no-op. A member that belongs to a chain
 * is not freed (the chain owns it): the call is ignored and an error is logged. */
BITNET_API void bitnet_sampler_free(bitnet_sampler *sampler);

/* ---------------------------------------------------------------------------------------------
 * Speculative decoding
 *
 * A helper that generates several tokens of one sequence per pass over the target model's
 * weights: it drafts up to `draft_max` tokens cheaply, verifies them all in ONE bitnet_decode()
 * of the target (one logits row per drafted position), keeps the longest accepted prefix plus one
 * token of the target's own, and removes the rejected positions from the KV caches (target and
 * draft) with bitnet_seq_rm(). Two draft sources:
 *   - prompt lookup (draft_context NULL): the last `lookup_ngram` tokens of the sequence are
 *     searched for earlier in it (most recent match first); the tokens that followed the match
 *     are the draft. Pays off where the output repeats its input (editing, summarising, code).
 *   - a draft model: a second context (`draft_context`) over a smaller model with the same
 *     vocabulary proposes the tokens, one bitnet_decode() each.
 *
 * Exactness. The target's sampler defines the distribution p at every position (its members up
 * to the final greedy or dist, with their history: penalties see the tokens accepted so far). A
 * drafted token x drawn from the draft distribution q is accepted with probability
 * min(1, p(x)/q(x)); at the first rejection the token is drawn from normalize(max(0, p - q)), and
 * after K accepted drafts one more from p (Leviathan et al. 2023, "Fast Inference from
 * Transformers via Speculative Decoding"; Chen et al. 2023). Prompt lookup's q is a point mass:
 * x is accepted with probability p(x), else the token comes from p without x, renormalised. So
 * every token has exactly the distribution plain sampling gives, and with a greedy sampler the
 * output is token for token the output of plain greedy decoding (up to logits that differ in the
 * last bits between a batch of one and a batch of K + 1, see bitnet_decode()). The accept/reject
 * draws come from the sampler's own random stream (its dist member's), so a seeded sampler gives
 * the same tokens whatever other sequences the helper generates for in between (a server's
 * seeded request does not depend on the other clients); they differ from a plain run with the
 * same seed while following the same distribution.
 *
 * Protocol. The caller keeps the sequence's tokens. Before each bitnet_speculative_generate()
 * the target context's sequence `seq` holds (at positions 0 .. n_tokens-2) every token but the
 * last, which is decoded by the call (after a prompt: decode all of it but its last token). The
 * call returns m >= 1 new tokens; the target then holds the old tokens and the first m - 1 new
 * ones, the last new token again waiting to be decoded by the next call. The sampler is told of
 * each new token (bitnet_sampler_accept), as bitnet_sampler_sample() would. The draft context's
 * sequence `seq` is the helper's: it re-decodes whatever differs from the tokens given (so the
 * caller may edit the sequence between calls, e.g. drop old turns), and nothing else may use it.
 *
 * The target context needs n_outputs_max and n_batch >= draft_max + 1. A helper, like its
 * contexts, belongs to one thread at a time; it refers to both contexts, which must outlive it.
 * ------------------------------------------------------------------------------------------- */

typedef struct bitnet_speculative bitnet_speculative;

typedef struct bitnet_speculative_params {
    size_t struct_size;             /* sizeof(bitnet_speculative_params) */
    bitnet_context *draft_context;  /* a draft model's context, or NULL for prompt lookup (default) */
    int32_t draft_max;              /* most tokens drafted per call, 1 .. 64; default 8 */
    int32_t lookup_ngram;           /* prompt lookup: tokens matched, 1 .. 16; default 3 (ignored
                                       with a draft context) */
    uint32_t seed;                  /* the random stream of draws made for a greedy sampler (whose
                                       tokens they cannot change); a dist sampler's draws come from
                                       its own stream. Default BITNET_DEFAULT_SEED (drawn from the
                                       operating system) */
    bool stop_at_eog;               /* default true: a call's output ends at the first
                                       end-of-generation token (bitnet_token_is_eog) */
} bitnet_speculative_params;

BITNET_API bitnet_speculative_params bitnet_speculative_default_params(void);

/* A helper over `target`. Fails with BITNET_ERR_INVALID_ARGUMENT for a NULL target or out, a
 * draft_max or lookup_ngram out of range, a target whose n_outputs_max or n_batch is below
 * draft_max + 1, a draft context that is the target itself, or a draft model whose vocabulary
 * differs from the target's (token count or any token's text; the message names the first
 * difference). */
BITNET_API bitnet_status bitnet_speculative_new(bitnet_context *target, const bitnet_speculative_params *params,
                                                bitnet_speculative **out_speculative);

/* Generate the next tokens of sequence `seq`, whose tokens so far are tokens[0 .. n_tokens) (see
 * the protocol above), with `sampler`, a chain ending with greedy or dist (or one of those
 * alone). Writes 1 .. min(capacity, draft_max + 1) tokens to `out` and returns their count, or
 * BITNET_COUNT_ERROR with bitnet_last_error() set: NULL arguments, n_tokens or capacity below 1,
 * a seq outside either context's n_seq_max, a target sequence that does not hold exactly
 * tokens[0 .. n_tokens-1) (BITNET_ERR_INVALID_INPUT, naming its last position), a sampler of
 * another shape (BITNET_ERR_UNSUPPORTED), or a failing decode (its status). After a failure the
 * target's sequence holds what it held before the call. When the KV cache has no room for the
 * drafts the call verifies none and generates one token. */
BITNET_API int32_t bitnet_speculative_generate(bitnet_speculative *speculative, bitnet_sampler *sampler, int32_t seq,
                                               const bitnet_token *tokens, int32_t n_tokens, bitnet_token *out,
                                               int32_t capacity);

/* Counts since the helper was made. The library writes this struct: set struct_size to
 * sizeof(bitnet_speculative_stats) before the call; only the fields that fit are written. */
typedef struct bitnet_speculative_stats {
    size_t struct_size;
    int64_t n_calls;      /* successful bitnet_speculative_generate() calls (target decodes) */
    int64_t n_generated;  /* tokens they returned */
    int64_t n_drafted;    /* tokens drafted and verified */
    int64_t n_accepted;   /* drafted tokens accepted (acceptance rate = n_accepted / n_drafted) */
} bitnet_speculative_stats;

/* BITNET_ERR_INVALID_ARGUMENT for a NULL helper or out, or an out->struct_size below
 * sizeof(size_t) + sizeof(int64_t). */
BITNET_API bitnet_status bitnet_speculative_get_stats(const bitnet_speculative *speculative,
                                                      bitnet_speculative_stats *out);

/* Free the helper (not its contexts). NULL is a no-op. */
BITNET_API void bitnet_speculative_free(bitnet_speculative *speculative);

/* ---------------------------------------------------------------------------------------------
 * Vocabulary and tokenizer
 *
 * The tokenizer is loaded from the model file's tokenizer metadata: byte-level BPE
 * (tokenizer.ggml.model "gpt2") with the Llama 3 pre-tokenizer (pre "llama-bpe", "llama3",
 * "llama-v3", and the Llama 3 vocabulary without a pre key, as in the official 2B-4T file) or the
 * GPT-2 one, and SentencePiece ("llama": Llama 2, 1bitLLM and llama2.c-derived vocabularies).
 * Loading a file whose tokenizer is none of these fails with BITNET_ERR_UNSUPPORTED.
 *
 * Functions that return a count use this convention: a value >= 0 is the count written; a
 * negative value -n (other than BITNET_COUNT_ERROR) means the output buffer was too small and n
 * entries are needed (nothing is written then); BITNET_COUNT_ERROR means the call failed and
 * bitnet_last_error() says why (NULL model, model without a vocabulary, token id out of range,
 * negative length or capacity, NULL buffer with a capacity above 0, ...). A buffer may be NULL
 * when its capacity is 0, to ask for the size.
 * ------------------------------------------------------------------------------------------- */

#define BITNET_COUNT_ERROR INT32_MIN
#define BITNET_TOKEN_NULL (-1)

typedef enum bitnet_token_type {
    BITNET_TOKEN_TYPE_UNDEFINED    = 0,
    BITNET_TOKEN_TYPE_NORMAL       = 1,
    BITNET_TOKEN_TYPE_UNKNOWN      = 2,
    BITNET_TOKEN_TYPE_CONTROL      = 3,
    BITNET_TOKEN_TYPE_USER_DEFINED = 4,
    BITNET_TOKEN_TYPE_UNUSED       = 5,
    BITNET_TOKEN_TYPE_BYTE         = 6
} bitnet_token_type;

/* Tokenize `text_len` bytes of UTF-8 `text` (not NUL-terminated; embedded NUL bytes are ordinary
 * characters). `add_special` adds BOS (and EOS) as the model's metadata asks
 * (tokenizer.ggml.add_bos_token, default true for SentencePiece and Llama 3 vocabularies;
 * add_eos_token, default false). `parse_special` recognises control-token text such as
 * "<|eot_id|>" as those tokens; without it such text is ordinary text (user-defined tokens are
 * always recognised). Where special-token texts overlap the longest wins.
 *
 * Invalid UTF-8 is not an error: each byte that is not part of a well-formed sequence (overlong
 * forms, surrogates, values above U+10FFFF and truncated sequences included) counts as one
 * symbol-like character and is tokenized through its byte token (byte-level BPE) or <0xXX> byte
 * fallback (SentencePiece). So for any bytes s,
 * bitnet_detokenize(bitnet_tokenize(s, add_special = false, parse_special = false)) == s, the one
 * exception being U+2581 in a SentencePiece vocabulary that spells spaces with it (it reads back
 * as a space, as in SentencePiece itself). */
BITNET_API int32_t bitnet_tokenize(const bitnet_model *model, const char *text, int32_t text_len,
                                   bitnet_token *tokens, int32_t capacity, bool add_special,
                                   bool parse_special);

/* The bytes a token stands for (not NUL-terminated): the byte-level alphabet decoded, U+2581
 * written as a space, <0xXX> as its byte. A piece may be part of a UTF-8 character. Control and
 * unused tokens render as "" unless `render_special`; the unknown token renders as U+FFFD unless
 * `render_special` (then as its text). Returns the byte count, -needed, or BITNET_COUNT_ERROR. */
BITNET_API int32_t bitnet_token_to_piece(const bitnet_model *model, bitnet_token token, char *buf,
                                         int32_t capacity, bool render_special);

/* Turn tokens back into text (not NUL-terminated): the tokens' pieces joined. For SentencePiece
 * vocabularies the space the tokenizer puts in front of a text (at the start, and after each
 * special token) is taken off again: one leading space of the first piece there. Bytes that are
 * not valid UTF-8 are returned as they are. `remove_special` drops a leading BOS and a trailing
 * EOS; `render_special` writes control tokens' text. Same return convention. */
BITNET_API int32_t bitnet_detokenize(const bitnet_model *model, const bitnet_token *tokens,
                                     int32_t n_tokens, char *buf, int32_t capacity,
                                     bool remove_special, bool render_special);

BITNET_API int32_t bitnet_vocab_n_tokens(const bitnet_model *model);
BITNET_API bitnet_token bitnet_vocab_bos(const bitnet_model *model); /* BITNET_TOKEN_NULL if none */
BITNET_API bitnet_token bitnet_vocab_eos(const bitnet_model *model);
BITNET_API bitnet_token bitnet_vocab_eot(const bitnet_model *model);
/* EOT is tokenizer.ggml.eot_token_id, else the token spelled <|eot_id|> (or <|im_end|>, <|end|>,
 * <end_of_turn>, <|endoftext|>, ...). True for every token that ends generation: EOS, EOT, EOM,
 * and control tokens spelled <|eot_id|>, <|eom_id|>, <|end_of_text|>, <|im_end|>, </s>, ... */
BITNET_API bool bitnet_token_is_eog(const bitnet_model *model, bitnet_token token);
/* The token's stored text (NUL-terminated), or NULL for an invalid id. */
BITNET_API const char *bitnet_token_text(const bitnet_model *model, bitnet_token token);
BITNET_API bitnet_token_type bitnet_token_get_type(const bitnet_model *model, bitnet_token token);

/* Streaming detokenization: feed tokens one at a time and receive only complete UTF-8
 * characters; bytes of a character split across tokens are held back until it completes. The
 * output is always valid UTF-8: a byte that can neither start nor continue a character is
 * written as U+FFFD at once. The same space rule as bitnet_detokenize applies. A detokenizer
 * refers to its model, which must outlive it; it belongs to one thread at a time. */
typedef struct bitnet_detokenizer bitnet_detokenizer;

BITNET_API bitnet_status bitnet_detokenizer_new(const bitnet_model *model, bool render_special,
                                                bitnet_detokenizer **out);
/* Appends the newly completed text to buf. Returns bytes written, -needed (nothing consumed:
 * call again with a larger buffer), or BITNET_COUNT_ERROR. */
BITNET_API int32_t bitnet_detokenizer_push(bitnet_detokenizer *detokenizer, bitnet_token token,
                                           char *buf, int32_t capacity);
/* Emits whatever is held back (an incomplete sequence at the end of the stream is written as
 * U+FFFD per invalid byte) and resets. Same return convention. */
BITNET_API int32_t bitnet_detokenizer_flush(bitnet_detokenizer *detokenizer, char *buf,
                                            int32_t capacity);
BITNET_API void bitnet_detokenizer_free(bitnet_detokenizer *detokenizer);

/* ---------------------------------------------------------------------------------------------
 * Chat templates
 * ------------------------------------------------------------------------------------------- */

typedef struct bitnet_chat_message {
    const char *role;    /* "system", "user" or "assistant" (llama2 accepts only these) */
    const char *content; /* NUL-terminated UTF-8 */
} bitnet_chat_message;

/* Render a conversation as prompt text. `template_name` is one of
 *   "bitnet"  <|begin_of_text|>System: ...<|eot_id|>User: ...<|eot_id|>Assistant: ...
 *             (BitNet b1.58 2B-4T: role capitalised, content trimmed, every message ends with
 *             <|eot_id|>; the assistant prompt is "Assistant: ")
 *   "llama3"  <|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>...
 *   "llama2"  <s>[INST] <<SYS>>\nSYSTEM\n<</SYS>>\n\nUSER [/INST] ASSISTANT </s><s>[INST] ...
 *   "falcon3" <|ROLE|>\nCONTENT\n... <|assistant|>\n
 * or NULL: the template recognised in the model's tokenizer.chat_template (for the 2B-4T
 * architectures without one, "bitnet"); `model` may be NULL when a name is given. With
 * `add_assistant_prompt` the text ends with the opening of the assistant's reply (llama2 always
 * ends a user turn that way). The text starts with the BOS text where the model's own template
 * does (bitnet, llama3, llama2): tokenize it with add_special = false and parse_special = true.
 * The output is NUL-terminated when it fits. Returns its length (without the NUL), -needed
 * (length + 1), or BITNET_COUNT_ERROR: an unknown template name (the message names it), a
 * model template that is none of the built-in ones (the message quotes its beginning), a model
 * without a template and no name, a NULL role or content, or a role the template cannot express. */
BITNET_API int32_t bitnet_chat_apply_template(const bitnet_model *model, const char *template_name,
                                              const bitnet_chat_message *messages, size_t n_messages,
                                              bool add_assistant_prompt, char *buf, int32_t capacity);

/* ---------------------------------------------------------------------------------------------
 * Experimental API
 *
 * Declared only when the program defines BITNET_EXPERIMENTAL before including this header. These
 * declarations are NOT covered by the stability promise of the rest of the header or by the
 * library's SONAME: any release, a patch release included, may change or remove them, and a
 * program that uses them must be built against the exact version of the library it runs with
 * (check bitnet_version_number() == BITNET_VERSION_NUMBER).
 *
 * What lives here and why:
 * - bitnet_sampler_perf(): its result is a struct returned by value without a struct_size, so no
 *   field can ever be added to it compatibly, and what a chain should measure (time per member,
 *   tokens per second) is not settled.
 * ------------------------------------------------------------------------------------------- */
#ifdef BITNET_EXPERIMENTAL

/* Time spent in bitnet_sampler_sample()/bitnet_sampler_sample_logits() on a chain and the
 * number of samples, since it was made or bitnet_sampler_perf_reset(); zeros for a chain made
 * with no_perf, for a sampler that is not a chain, and for NULL. */
typedef struct bitnet_sampler_perf_data {
    double t_sample_ms;
    int32_t n_sample;
} bitnet_sampler_perf_data;

BITNET_API bitnet_sampler_perf_data bitnet_sampler_perf(const bitnet_sampler *chain);
BITNET_API void bitnet_sampler_perf_reset(bitnet_sampler *chain);

#endif /* BITNET_EXPERIMENTAL */

#ifdef __cplusplus
}
#endif

#endif /* BITNET_H */
