-- Tests of the Lua binding, run by tests/bindings/test_lua.sh, which builds bitnet.so against an
-- installed library and sets the BITNET_TEST_* variables to a model and the C API's answers.
local bitnet = require("bitnet")

local function ids(text)
  local list = {}
  for id in text:gmatch("%-?%d+") do list[#list + 1] = tonumber(id) end
  return list
end

local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

local function env(name)
  local value = os.getenv(name)
  assert(value, name .. " is not set")
  return value
end

local passed, failed = 0, 0
local function test(name, body)
  local ok, message = pcall(body)
  if ok then passed = passed + 1 else failed = failed + 1 end
  print((ok and "ok   " or "FAIL ") .. name .. (ok and "" or (": " .. tostring(message))))
end

local model_path, prompt_text = env("BITNET_TEST_MODEL"), env("BITNET_TEST_PROMPT")
local n = tonumber(env("BITNET_TEST_N"))
local prompt_tokens, expected = ids(env("BITNET_TEST_PROMPT_TOKENS")), ids(env("BITNET_TEST_EXPECTED"))

test("a missing model file returns nil, message, status", function()
  local model, message, status = bitnet.load("/nonexistent/model.gguf")
  assert(model == nil)
  assert(type(message) == "string" and #message > 0, "a message")
  assert(status == 2, "status is BITNET_ERR_IO, got " .. tostring(status))
end)

test("greedy generation matches the C API", function()
  local model = assert(bitnet.load(model_path))
  local prompt = assert(model:tokenize(prompt_text))
  assert(same(prompt, prompt_tokens), "prompt tokens differ")
  local context <close> = assert(model:context())
  local generated = {}
  for token in assert(context:generate(prompt, n)) do generated[#generated + 1] = token end
  assert(same(generated, expected),
    "got " .. table.concat(generated, " ") .. ", expected " .. table.concat(expected, " "))
end)

test("two sequences in one batch", function()
  local model = assert(bitnet.load(model_path))
  local context = assert(model:context{n_seq_max = 2})
  local batch = assert(bitnet.batch(#prompt_tokens))
  for i, token in ipairs(prompt_tokens) do
    assert(batch:add(token, i - 1, {0, 1}, i == #prompt_tokens))
  end
  assert(context:decode(batch))
  local sampler = assert(bitnet.sampler())
  local first = assert(sampler:sample(context))
  assert(first == expected[1], "first token " .. first)
  batch:clear()
  assert(batch:add(first, #prompt_tokens, 0, true))
  assert(batch:add(first, #prompt_tokens, 1, true))
  assert(#batch == 2)
  assert(context:decode(batch))
  assert(same(context:logits(0), context:logits(1)), "both sequences see the same logits")
  if expected[2] then assert(sampler:sample(context, 1) == expected[2]) end
end)

test("errors come back as nil, message", function()
  local model = assert(bitnet.load(model_path))
  local context = assert(model:context())
  local batch = assert(bitnet.batch(1))
  assert(batch:add(model:n_vocab() + 5, 0, 0, true))
  local ok, message, status = context:decode(batch)
  assert(ok == nil and #message > 0 and status == 8, "a bad token is invalid input")
  ok, message, status = batch:add(1, 1, 0, true)
  assert(ok == nil and #message > 0 and status == 11, "a full batch is too small")
  local sampler, why = bitnet.sampler{top_p = 0 / 0}
  assert(sampler == nil and #why > 0, "NaN top_p is rejected")
end)

test("text round trip and sampling with a chain", function()
  local model = assert(bitnet.load(model_path))
  assert(model:detokenize(assert(model:tokenize(prompt_text, false))) == prompt_text)
  local context = assert(model:context())
  local sampler = assert(bitnet.sampler{top_k = 40, temperature = 0.8, seed = 7})
  local count = 0
  for _ in assert(context:generate(prompt_tokens, 4, sampler)) do count = count + 1 end
  assert(count > 0)
end)

test("a model closed early is freed after its last context", function()
  local model = assert(bitnet.load(model_path))
  local context = assert(model:context())
  model:close()
  assert(not pcall(model.n_vocab, model), "a closed model refuses calls")
  local generated = {}
  for token in assert(context:generate(prompt_tokens, 2)) do generated[#generated + 1] = token end
  assert(generated[1] == expected[1], "the context still works")
  context:close()
  collectgarbage()
end)

test("a generator whose context was closed raises", function()
  local model = assert(bitnet.load(model_path))
  local context = assert(model:context())
  local next_token = assert(context:generate(prompt_tokens, 3))
  context:close()
  local ok, message = pcall(next_token)
  assert(not ok and message:find("closed"), tostring(message))
end)

print(string.format("%d passed, %d failed", passed, failed))
-- Closing the state (the second argument) runs every pending __gc, so finalizers run too.
os.exit(failed == 0 and 0 or 1, true)
