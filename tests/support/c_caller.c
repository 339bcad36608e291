/* Calls made the way a C program makes them: enum parameters and fields given as plain ints,
 * which C allows for any value. Written in C so that the out-of-range values are well defined on
 * the caller's side; the library must range-check them as integers (lib/util/c_enum.h). */
#include "support/c_caller.h"

const char *c_caller_status_string(int value) { return bitnet_status_string((bitnet_status)value); }

void c_caller_set_log_callback(bitnet_log_callback callback, int max_level, void *user_data) {
    bitnet_set_log_callback(callback, (bitnet_log_level)max_level, user_data);
}

void c_caller_log_to_stderr(int level, const char *message) {
    bitnet_log_to_stderr((bitnet_log_level)level, message, NULL);
}

void c_caller_set_head_type(bitnet_model_params *params, int value) { params->head_type = (bitnet_head_type)value; }

void c_caller_set_kv_type(bitnet_context_params *params, int value) { params->kv_type = (bitnet_kv_type)value; }

void c_caller_set_backend(bitnet_context_params *params, int value) { params->backend = (bitnet_backend_type)value; }
