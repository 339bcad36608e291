/* tests/support/c_caller.c: C calls with enum values given as arbitrary ints. */
#pragma once

#include "bitnet.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *c_caller_status_string(int value);
void c_caller_set_log_callback(bitnet_log_callback callback, int max_level, void *user_data);
void c_caller_log_to_stderr(int level, const char *message);
void c_caller_set_head_type(bitnet_model_params *params, int value);
void c_caller_set_kv_type(bitnet_context_params *params, int value);
void c_caller_set_backend(bitnet_context_params *params, int value);

#ifdef __cplusplus
}
#endif
