// The page is kept as one raw string so the binary serves it with no files beside it. It uses only
// what browsers ship: fetch with a streamed body (ReadableStream) and AbortController for "stop".
// `/?message=TEXT` sends TEXT once the page has loaded (used by the headless browser test).
#include "chat_page.h"

namespace bitnet_serve {

const char *const kChatPageHtml = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bitnet chat</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 0 auto; padding: 1rem; }
  #log { display: flex; flex-direction: column; gap: .5rem; margin-bottom: 1rem; }
  .user, .assistant { padding: .5rem .75rem; border-radius: .5rem; white-space: pre-wrap; }
  .user { background: #dbeafe; align-self: flex-end; }
  .assistant { background: #f3f4f6; }
  .error { color: #b91c1c; }
  form { display: flex; gap: .5rem; }
  textarea { flex: 1; min-height: 3rem; }
  #settings { margin-bottom: 1rem; font-size: .9rem; }
</style>
</head>
<body>
<h1>bitnet chat</h1>
<div id="settings">
  <label>API key <input id="key" type="password" placeholder="only if the server has one"></label>
  <label>max tokens <input id="max-tokens" type="number" value="256" min="1" style="width: 5rem"></label>
  <label>temperature <input id="temperature" type="number" value="0.8" min="0" max="2" step="0.1" style="width: 4rem"></label>
</div>
<div id="log"></div>
<form id="form">
  <textarea id="input" placeholder="Message"></textarea>
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
</form>
<script>
"use strict";
const history = [];
const log = document.getElementById("log");
const input = document.getElementById("input");
const sendButton = document.getElementById("send");
const stopButton = document.getElementById("stop");
const keyInput = document.getElementById("key");
keyInput.value = localStorage.getItem("bitnet-api-key") || "";
keyInput.addEventListener("change", () => localStorage.setItem("bitnet-api-key", keyInput.value));
let controller = null;

function addBubble(role, text) {
  const bubble = document.createElement("div");
  bubble.className = role;
  bubble.textContent = text;
  log.appendChild(bubble);
  return bubble;
}

async function send(text) {
  history.push({ role: "user", content: text });
  addBubble("user", text);
  const reply = addBubble("assistant", "");
  reply.id = "reply-" + history.length;
  controller = new AbortController();
  sendButton.disabled = true;
  stopButton.disabled = false;
  const headers = { "Content-Type": "application/json" };
  if (keyInput.value) headers["Authorization"] = "Bearer " + keyInput.value;
  let finish = null;
  try {
    const response = await fetch("/v1/chat/completions", {
      method: "POST", headers, signal: controller.signal,
      body: JSON.stringify({
        messages: history, stream: true,
        max_tokens: Number(document.getElementById("max-tokens").value),
        temperature: Number(document.getElementById("temperature").value),
      }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error((body.error && body.error.message) || response.statusText);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        const event = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        const data = event.slice(6);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices && chunk.choices[0];
        if (!choice) continue;
        if (choice.delta && choice.delta.content) reply.textContent += choice.delta.content;
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
  } catch (error) {
    if (error.name !== "AbortError") {
      addBubble("error", "error: " + error.message);
    } else {
      finish = "stopped";
    }
  }
  history.push({ role: "assistant", content: reply.textContent });
  reply.dataset.finish = finish || "error";
  controller = null;
  sendButton.disabled = false;
  stopButton.disabled = true;
}

document.getElementById("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text || controller) return;
  input.value = "";
  send(text);
});
stopButton.addEventListener("click", () => controller && controller.abort());
const autoMessage = new URLSearchParams(location.search).get("message");
if (autoMessage) {
  const parameters = new URLSearchParams(location.search);
  if (parameters.get("temperature")) document.getElementById("temperature").value = parameters.get("temperature");
  if (parameters.get("max_tokens")) document.getElementById("max-tokens").value = parameters.get("max_tokens");
  send(autoMessage);
}
</script>
</body>
</html>
)html";

}  // namespace bitnet_serve
