/* Lua 5.4 binding of libbitnet. Handles are userdata freed by __gc (and __close, or :close());
 * failures return nil, message, status code, as io.open does. See README.md. */
#include <lauxlib.h>
#include <lua.h>

#include <bitnet.h>

#define MODEL_TYPE "bitnet.model"
#define CONTEXT_TYPE "bitnet.context"
#define BATCH_TYPE "bitnet.batch"
#define SAMPLER_TYPE "bitnet.sampler"

/* A model is freed only when it is closed and no context uses it any more: the header requires
 * every context to be freed before its model, and Lua may finalize them in either order. */
typedef struct {
    bitnet_model *model;
    int users;
    bool closed;
} lmodel;

typedef struct {
    bitnet_context *context;
    lmodel *owner; /* kept alive by the context's user value */
} lcontext;

typedef struct {
    bitnet_batch *batch;
} lbatch;

typedef struct {
    bitnet_sampler *sampler;
} lsampler;

static int push_message(lua_State *L, bitnet_status status, const char *message) {
    lua_pushnil(L);
    lua_pushstring(L, message);
    lua_pushinteger(L, status);
    return 3;
}

/* For a call that just failed: its status and the library's message about it. */
static int push_failure(lua_State *L, bitnet_status status) {
    const char *message = bitnet_last_error();
    return push_message(L, status, message[0] ? message : bitnet_status_string(status));
}

/* Failures of the count functions carry no status; they are invalid arguments. */
static int push_count_failure(lua_State *L) {
    return push_failure(L, BITNET_ERR_INVALID_ARGUMENT);
}

static void model_release(lmodel *m) {
    if (m->closed && m->users == 0 && m->model) {
        bitnet_model_free(m->model);
        m->model = NULL;
    }
}

static lmodel *check_model(lua_State *L, int index) {
    lmodel *m = luaL_checkudata(L, index, MODEL_TYPE);
    luaL_argcheck(L, !m->closed, index, "model is closed");
    return m;
}

static lcontext *check_context(lua_State *L, int index) {
    lcontext *c = luaL_checkudata(L, index, CONTEXT_TYPE);
    luaL_argcheck(L, c->context != NULL, index, "context is closed");
    return c;
}

static lbatch *check_batch(lua_State *L, int index) {
    lbatch *b = luaL_checkudata(L, index, BATCH_TYPE);
    luaL_argcheck(L, b->batch != NULL, index, "batch is closed");
    return b;
}

static lsampler *check_sampler(lua_State *L, int index) {
    lsampler *s = luaL_checkudata(L, index, SAMPLER_TYPE);
    luaL_argcheck(L, s->sampler != NULL, index, "sampler is closed");
    return s;
}

/* A Lua sequence of integers as a token array. The array is a userdata left on the stack, so
 * the garbage collector frees it even when an error is raised. */
static bitnet_token *check_tokens(lua_State *L, int index, int32_t *n) {
    luaL_checktype(L, index, LUA_TTABLE);
    *n = (int32_t)luaL_len(L, index);
    bitnet_token *tokens = lua_newuserdatauv(L, sizeof *tokens * (size_t)(*n > 0 ? *n : 1), 0);
    for (int32_t i = 0; i < *n; ++i) {
        lua_geti(L, index, i + 1);
        int is_integer = 0;
        tokens[i] = (bitnet_token)lua_tointegerx(L, -1, &is_integer);
        if (!is_integer) luaL_error(L, "token %d is not an integer", (int)i + 1);
        lua_pop(L, 1);
    }
    return tokens;
}

/* ---- models ---------------------------------------------------------------------------- */

static int l_load(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    lmodel *m = lua_newuserdatauv(L, sizeof *m, 0);
    *m = (lmodel){NULL, 0, false};
    luaL_setmetatable(L, MODEL_TYPE);
    bitnet_status status = bitnet_model_load_file(path, NULL, &m->model);
    if (status != BITNET_OK) {
        m->closed = true;
        return push_failure(L, status);
    }
    return 1;
}

static int model_close(lua_State *L) {
    lmodel *m = luaL_checkudata(L, 1, MODEL_TYPE);
    m->closed = true;
    model_release(m);
    return 0;
}

static int model_n_vocab(lua_State *L) {
    lua_pushinteger(L, bitnet_model_n_vocab(check_model(L, 1)->model));
    return 1;
}

/* model:tokenize(text [, add_special = true [, parse_special = false]]) -> {ids} */
static int model_tokenize(lua_State *L) {
    lmodel *m = check_model(L, 1);
    size_t length;
    const char *text = luaL_checklstring(L, 2, &length);
    bool add_special = lua_isnoneornil(L, 3) || lua_toboolean(L, 3);
    bool parse_special = lua_toboolean(L, 4);
    int32_t needed = bitnet_tokenize(m->model, text, (int32_t)length, NULL, 0, add_special, parse_special);
    if (needed == BITNET_COUNT_ERROR) return push_count_failure(L);
    int32_t capacity = needed < 0 ? -needed : needed;
    bitnet_token *tokens = lua_newuserdatauv(L, sizeof *tokens * (size_t)(capacity > 0 ? capacity : 1), 0);
    int32_t n = bitnet_tokenize(m->model, text, (int32_t)length, tokens, capacity, add_special, parse_special);
    if (n < 0) return push_count_failure(L);
    lua_createtable(L, n, 0);
    for (int32_t i = 0; i < n; ++i) {
        lua_pushinteger(L, tokens[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* model:detokenize({ids}) -> text, without a leading BOS and trailing EOS */
static int model_detokenize(lua_State *L) {
    lmodel *m = check_model(L, 1);
    int32_t n;
    bitnet_token *tokens = check_tokens(L, 2, &n);
    int32_t needed = bitnet_detokenize(m->model, tokens, n, NULL, 0, true, false);
    if (needed == BITNET_COUNT_ERROR) return push_count_failure(L);
    int32_t capacity = needed < 0 ? -needed : needed;
    luaL_Buffer buffer;
    char *text = luaL_buffinitsize(L, &buffer, (size_t)capacity);
    int32_t written = bitnet_detokenize(m->model, tokens, n, text, capacity, true, false);
    if (written < 0) return push_count_failure(L);
    luaL_pushresultsize(&buffer, (size_t)written);
    return 1;
}

static int model_is_eog(lua_State *L) {
    lua_pushboolean(L, bitnet_token_is_eog(check_model(L, 1)->model, (bitnet_token)luaL_checkinteger(L, 2)));
    return 1;
}

static uint32_t opt_field(lua_State *L, int table, const char *name, uint32_t fallback) {
    lua_getfield(L, table, name);
    lua_Integer value = luaL_optinteger(L, -1, fallback);
    lua_pop(L, 1);
    return (uint32_t)value;
}

/* model:context{n_ctx =, n_batch =, n_seq_max =, n_threads =} -> context */
static int model_context(lua_State *L) {
    lmodel *m = check_model(L, 1);
    bitnet_context_params params = bitnet_context_default_params();
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        params.n_ctx = opt_field(L, 2, "n_ctx", params.n_ctx);
        params.n_batch = opt_field(L, 2, "n_batch", params.n_batch);
        params.n_seq_max = opt_field(L, 2, "n_seq_max", params.n_seq_max);
        params.n_threads = (int32_t)opt_field(L, 2, "n_threads", (uint32_t)params.n_threads);
    }
    lcontext *c = lua_newuserdatauv(L, sizeof *c, 1);
    *c = (lcontext){NULL, NULL};
    luaL_setmetatable(L, CONTEXT_TYPE);
    bitnet_status status = bitnet_context_new(m->model, &params, &c->context);
    if (status != BITNET_OK) return push_failure(L, status);
    c->owner = m;
    m->users++;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

/* ---- contexts --------------------------------------------------------------------------- */

static int context_close(lua_State *L) {
    lcontext *c = luaL_checkudata(L, 1, CONTEXT_TYPE);
    if (c->context) {
        bitnet_context_free(c->context);
        c->context = NULL;
        c->owner->users--;
        model_release(c->owner);
    }
    return 0;
}

static int context_decode(lua_State *L) {
    bitnet_status status = bitnet_decode(check_context(L, 1)->context, check_batch(L, 2)->batch);
    if (status != BITNET_OK) return push_failure(L, status);
    lua_pushboolean(L, 1);
    return 1;
}

/* context:logits([i = -1]) -> {n_vocab floats}, index 1 for token 0 */
static int context_logits(lua_State *L) {
    lcontext *c = check_context(L, 1);
    const float *logits = bitnet_get_logits(c->context, (int32_t)luaL_optinteger(L, 2, -1));
    if (!logits) return push_failure(L, BITNET_ERR_INVALID_ARGUMENT);
    int32_t n_vocab = bitnet_model_n_vocab(c->owner->model);
    lua_createtable(L, n_vocab, 0);
    for (int32_t i = 0; i < n_vocab; ++i) {
        lua_pushnumber(L, logits[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* The iterator of context:generate. Upvalues: context, sampler, batch, and the state below. */
typedef struct {
    int32_t next_pos;
    lua_Integer remaining;
    bitnet_token pending; /* the last token returned, not yet decoded; BITNET_TOKEN_NULL if none */
} generate_state;

static int generate_next(lua_State *L) {
    lcontext *c = lua_touserdata(L, lua_upvalueindex(1));
    lsampler *s = lua_touserdata(L, lua_upvalueindex(2));
    lbatch *b = lua_touserdata(L, lua_upvalueindex(3));
    generate_state *state = lua_touserdata(L, lua_upvalueindex(4));
    if (state->remaining <= 0) return 0;
    if (!c->context || !s->sampler) return luaL_error(L, "generate: the context or the sampler is closed");
    state->remaining--;
    /* A for loop cannot see a second result, so failures here are raised as errors. */
    if (state->pending != BITNET_TOKEN_NULL) {
        const int32_t seq = 0;
        bitnet_batch_clear(b->batch);
        bitnet_status status = bitnet_batch_add(b->batch, state->pending, state->next_pos, &seq, 1, true);
        if (status == BITNET_OK) status = bitnet_decode(c->context, b->batch);
        if (status != BITNET_OK) return luaL_error(L, "%s", bitnet_last_error());
        state->next_pos++;
    }
    bitnet_token token = bitnet_sampler_sample(s->sampler, c->context, -1);
    if (token == BITNET_TOKEN_NULL) return luaL_error(L, "%s", bitnet_last_error());
    if (bitnet_token_is_eog(c->owner->model, token)) {
        state->remaining = 0;
        return 0;
    }
    state->pending = token;
    lua_pushinteger(L, token);
    return 1;
}

/* context:generate({prompt ids}, n [, sampler = greedy]) -> iterator over up to n tokens of
 * sequence 0, stopping before an end-of-generation token. The prompt is decoded here. */
static int context_generate(lua_State *L) {
    lcontext *c = check_context(L, 1);
    lua_Integer n = luaL_checkinteger(L, 3);
    lua_settop(L, 4);
    if (lua_isnil(L, 4)) {
        lsampler *greedy = lua_newuserdatauv(L, sizeof *greedy, 0);
        greedy->sampler = NULL;
        luaL_setmetatable(L, SAMPLER_TYPE);
        bitnet_status status = bitnet_sampler_init_greedy(&greedy->sampler);
        if (status != BITNET_OK) return push_failure(L, status);
        lua_replace(L, 4);
    }
    check_sampler(L, 4);
    int32_t n_prompt;
    bitnet_token *prompt = check_tokens(L, 2, &n_prompt); /* stack index 5 */
    if (n_prompt == 0) return push_message(L, BITNET_ERR_INVALID_ARGUMENT, "generate needs a prompt token");
    int32_t n_batch = (int32_t)bitnet_context_n_batch(c->context);
    lbatch *b = lua_newuserdatauv(L, sizeof *b, 0); /* stack index 6 */
    b->batch = NULL;
    luaL_setmetatable(L, BATCH_TYPE);
    bitnet_status status = bitnet_batch_new(n_batch, &b->batch);
    /* The prompt continues what sequence 0 holds, in chunks of n_batch tokens. */
    int32_t pos = bitnet_seq_pos_max(c->context, 0) + 1;
    const int32_t seq = 0;
    for (int32_t i = 0; status == BITNET_OK && i < n_prompt; ++i) {
        status = bitnet_batch_add(b->batch, prompt[i], pos++, &seq, 1, i == n_prompt - 1);
        if (status == BITNET_OK && (bitnet_batch_size(b->batch) == n_batch || i == n_prompt - 1)) {
            status = bitnet_decode(c->context, b->batch);
            bitnet_batch_clear(b->batch);
        }
    }
    if (status != BITNET_OK) return push_failure(L, status);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 6);
    generate_state *state = lua_newuserdatauv(L, sizeof *state, 0);
    *state = (generate_state){pos, n, BITNET_TOKEN_NULL};
    lua_pushcclosure(L, generate_next, 4);
    return 1;
}

/* ---- batches ---------------------------------------------------------------------------- */

static int l_batch(lua_State *L) {
    lua_Integer capacity = luaL_checkinteger(L, 1);
    lbatch *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->batch = NULL;
    luaL_setmetatable(L, BATCH_TYPE);
    bitnet_status status = bitnet_batch_new((int32_t)capacity, &b->batch);
    if (status != BITNET_OK) return push_failure(L, status);
    return 1;
}

static int batch_close(lua_State *L) {
    lbatch *b = luaL_checkudata(L, 1, BATCH_TYPE);
    bitnet_batch_free(b->batch);
    b->batch = NULL;
    return 0;
}

/* batch:add(token, pos, seq or {seqs} [, logits = false]) -> true */
static int batch_add(lua_State *L) {
    lbatch *b = check_batch(L, 1);
    bitnet_token token = (bitnet_token)luaL_checkinteger(L, 2);
    int32_t pos = (int32_t)luaL_checkinteger(L, 3);
    int32_t seq_ids[64];
    int32_t n_seq_ids = 1;
    if (lua_istable(L, 4)) {
        n_seq_ids = (int32_t)luaL_len(L, 4);
        luaL_argcheck(L, n_seq_ids >= 1 && n_seq_ids <= 64, 4, "1 to 64 sequence ids");
        for (int32_t i = 0; i < n_seq_ids; ++i) {
            lua_geti(L, 4, i + 1);
            seq_ids[i] = (int32_t)luaL_checkinteger(L, -1);
            lua_pop(L, 1);
        }
    } else {
        seq_ids[0] = (int32_t)luaL_checkinteger(L, 4);
    }
    bitnet_status status = bitnet_batch_add(b->batch, token, pos, seq_ids, n_seq_ids, lua_toboolean(L, 5));
    if (status != BITNET_OK) return push_failure(L, status);
    lua_pushboolean(L, 1);
    return 1;
}

static int batch_clear(lua_State *L) {
    bitnet_batch_clear(check_batch(L, 1)->batch);
    return 0;
}

static int batch_len(lua_State *L) {
    lua_pushinteger(L, bitnet_batch_size(check_batch(L, 1)->batch));
    return 1;
}

/* ---- samplers --------------------------------------------------------------------------- */

/* Hands a just-made member to the chain, which then frees it with itself. */
static bitnet_status chain_add(bitnet_sampler *chain, bitnet_status made, bitnet_sampler *const *member) {
    bitnet_status status = made == BITNET_OK ? bitnet_sampler_chain_add(chain, *member) : made;
    if (status != BITNET_OK) bitnet_sampler_free(*member);
    return status;
}

static bool get_option(lua_State *L, const char *name, lua_Number *value) {
    bool present = lua_istable(L, 1) && lua_getfield(L, 1, name) != LUA_TNIL;
    if (present) *value = luaL_checknumber(L, -1);
    if (lua_istable(L, 1)) lua_pop(L, 1);
    return present;
}

/* bitnet.sampler{top_k =, top_p =, min_p =, temperature =, seed =} -> sampler. The members run
 * in that order and end in dist with `seed` (random when absent); with no options, greedy. */
static int l_sampler(lua_State *L) {
    if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
    lua_Number top_k = 0, top_p = 1, min_p = 0, temperature = 1, seed = BITNET_DEFAULT_SEED;
    bool has_top_k = get_option(L, "top_k", &top_k), has_top_p = get_option(L, "top_p", &top_p);
    bool has_min_p = get_option(L, "min_p", &min_p), has_temperature = get_option(L, "temperature", &temperature);
    bool has_seed = get_option(L, "seed", &seed);
    bool greedy = !(has_top_k || has_top_p || has_min_p || has_temperature || has_seed);

    lsampler *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->sampler = NULL;
    luaL_setmetatable(L, SAMPLER_TYPE);
    bitnet_sampler *member = NULL;
    bitnet_status status = bitnet_sampler_chain_new(NULL, &s->sampler);
    if (status == BITNET_OK && has_top_k) {
        status = chain_add(s->sampler, bitnet_sampler_init_top_k((int32_t)top_k, &member), &member);
    }
    if (status == BITNET_OK && has_top_p) {
        status = chain_add(s->sampler, bitnet_sampler_init_top_p((float)top_p, 1, &member), &member);
    }
    if (status == BITNET_OK && has_min_p) {
        status = chain_add(s->sampler, bitnet_sampler_init_min_p((float)min_p, 1, &member), &member);
    }
    if (status == BITNET_OK && has_temperature) {
        status = chain_add(s->sampler, bitnet_sampler_init_temperature((float)temperature, &member), &member);
    }
    if (status == BITNET_OK && greedy) status = chain_add(s->sampler, bitnet_sampler_init_greedy(&member), &member);
    if (status == BITNET_OK && !greedy) {
        status = chain_add(s->sampler, bitnet_sampler_init_dist((uint32_t)seed, &member), &member);
    }
    if (status != BITNET_OK) return push_failure(L, status);
    return 1;
}

static int sampler_close(lua_State *L) {
    lsampler *s = luaL_checkudata(L, 1, SAMPLER_TYPE);
    bitnet_sampler_free(s->sampler);
    s->sampler = NULL;
    return 0;
}

/* sampler:sample(context [, i = -1]) -> token */
static int sampler_sample(lua_State *L) {
    lsampler *s = check_sampler(L, 1);
    lcontext *c = check_context(L, 2);
    bitnet_token token = bitnet_sampler_sample(s->sampler, c->context, (int32_t)luaL_optinteger(L, 3, -1));
    if (token == BITNET_TOKEN_NULL) return push_failure(L, BITNET_ERR_INVALID_INPUT);
    lua_pushinteger(L, token);
    return 1;
}

/* ---- module ----------------------------------------------------------------------------- */

static int l_version(lua_State *L) {
    lua_pushstring(L, bitnet_version());
    return 1;
}

static void new_type(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close) {
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "close");
    lua_pop(L, 1);
}

int luaopen_bitnet(lua_State *L) {
    static const luaL_Reg model_methods[] = {
        {"n_vocab", model_n_vocab}, {"tokenize", model_tokenize}, {"detokenize", model_detokenize},
        {"is_eog", model_is_eog},   {"context", model_context},   {NULL, NULL}};
    static const luaL_Reg context_methods[] = {
        {"decode", context_decode}, {"logits", context_logits}, {"generate", context_generate}, {NULL, NULL}};
    static const luaL_Reg batch_methods[] = {
        {"add", batch_add}, {"clear", batch_clear}, {"__len", batch_len}, {NULL, NULL}};
    static const luaL_Reg sampler_methods[] = {{"sample", sampler_sample}, {NULL, NULL}};
    static const luaL_Reg functions[] = {
        {"load", l_load}, {"batch", l_batch}, {"sampler", l_sampler}, {"version", l_version}, {NULL, NULL}};
    new_type(L, MODEL_TYPE, model_methods, model_close);
    new_type(L, CONTEXT_TYPE, context_methods, context_close);
    new_type(L, BATCH_TYPE, batch_methods, batch_close);
    new_type(L, SAMPLER_TYPE, sampler_methods, sampler_close);
    luaL_newlib(L, functions);
    return 1;
}
