// The chat page served at GET /: one self-contained HTML/JS file (no build step, no CDN) that
// streams replies from /v1/chat/completions and can stop them.
#pragma once

namespace bitnet_serve {

extern const char *const kChatPageHtml;

}  // namespace bitnet_serve
