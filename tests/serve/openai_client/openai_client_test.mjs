// The official OpenAI client (npm package `openai`) against `bitnet serve`: chat completions, JSON
// and streamed, a text completion, the model list and a rejected key. The expected texts come from
// `bitnet run` at temperature 0 (see ../test_openai_client.sh).
// usage: node openai_client_test.mjs PORT API_KEY EXPECTED_CHAT_FILE EXPECTED_COMPLETION_FILE
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const [port, apiKey, chatFile, completionFile] = process.argv.slice(2);
const baseURL = `http://127.0.0.1:${port}/v1`;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });
const expectedChat = readFileSync(chatFile, 'utf8');
const expectedCompletion = readFileSync(completionFile, 'utf8');
const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What is BitNet?' },
];

const chat = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 20, temperature: 0 });
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.model, 'tiny');
assert.equal(chat.choices.length, 1);
assert.equal(chat.choices[0].message.role, 'assistant');
assert.equal(chat.choices[0].message.content, expectedChat);
assert.ok(['stop', 'length'].includes(chat.choices[0].finish_reason));
assert.ok(chat.usage.prompt_tokens > 0);
assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);
console.log(`chat: ${chat.usage.completion_tokens} tokens, finish_reason ${chat.choices[0].finish_reason}`);

const stream = await client.chat.completions.create({
  model: 'tiny', messages, max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let usage = null;
let finishReason = null;
for await (const chunk of stream) {
  assert.equal(chunk.object, 'chat.completion.chunk');
  if (chunk.usage) usage = chunk.usage;
  if (chunk.choices.length === 0) continue;
  streamed += chunk.choices[0].delta.content ?? '';
  finishReason = chunk.choices[0].finish_reason ?? finishReason;
}
assert.equal(streamed, expectedChat);
assert.equal(finishReason, chat.choices[0].finish_reason);
assert.equal(usage.completion_tokens, chat.usage.completion_tokens);
console.log('chat stream: same text');

const completion = await client.completions.create({ model: 'tiny', prompt: 'hello world', max_tokens: 16, temperature: 0 });
assert.equal(completion.choices[0].text, expectedCompletion);
console.log('completion: same text');

const models = await client.models.list();
assert.deepEqual(models.data.map((m) => m.id), ['tiny']);

const stranger = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 });
await assert.rejects(stranger.models.list(), (error) => error instanceof OpenAI.AuthenticationError && error.status === 401);
console.log('openai client test passed');
