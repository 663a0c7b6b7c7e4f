#!/usr/bin/env bash
# `messages` and `stop` in a prompts file, through a 2-stage pipeline: a conversation is
# rendered with the model's chat template and generates exactly what its rendered text does as
# a `prompt` (greedy; the template's own BOS not doubled), stop strings cut the text before
# them (also one spanning tokens), and a model without a template records an error for a
# `messages` line while its `prompt` lines complete.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
chat_model "$python" "$WORK/chat.gguf"

python3 - > "$WORK/prompts.jsonl" <<'PY'
import json
conv = [{"role": "system", "content": " Tom had a dog "}, {"role": "user", "content": "Once upon a time"}]
print(json.dumps({"id": "chat", "messages": conv}))
print(json.dumps({"id": "text", "prompt": "Tom had a dog. Once upon a time"}))
print(json.dumps({"id": "plain", "prompt": "Once upon a time"}))
print(json.dumps({"id": "stop", "prompt": "Once upon a time", "stop": ["park", "Lily"]}))
print(json.dumps({"id": "split", "prompt": "Once upon a time", "stop": "girl na"}))
print(json.dumps({"id": "both", "prompt": "x", "messages": conv}))
print(json.dumps({"id": "bad-role", "messages": [{"content": "hi"}]}))
print(json.dumps({"id": "bad-stop", "prompt": "x", "stop": [""]}))
PY
mpirun_llmpipe 2 120 run -m "$WORK/chat.gguf" --prompts "$WORK/prompts.jsonl" -o "$WORK/out" \
  -n 48 --temperature 0 > "$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; fail "run failed"; }
python3 - "$WORK/out" <<'PY'
import json, sys
out = sys.argv[1]
done = {c["id"]: c for c in map(json.loads, open(f"{out}/completions.jsonl"))}
errs = {e["line"]: e["error"] for e in map(json.loads, open(f"{out}/errors.jsonl"))}
assert set(done) == {"chat", "text", "plain", "stop", "split"}, done.keys()
chat, text = done["chat"], done["text"]
assert chat["prompt"] == "<s>Tom had a dog. Once upon a time", chat["prompt"]
assert chat["messages"][0]["role"] == "system", chat
assert chat["completion"] == text["completion"] and chat["completion"], (chat, text)
assert chat["prompt_tokens"] == text["prompt_tokens"], (chat["prompt_tokens"], text["prompt_tokens"])
plain = done["plain"]["completion"]
assert "Lily" in plain and "girl na" in plain, plain
assert done["stop"]["completion"] == plain[: plain.index("Lily")], done["stop"]
assert done["stop"]["finish_reason"] == "stop", done["stop"]
assert done["split"]["completion"] == plain[: plain.index("girl na")], done["split"]
assert done["split"]["finish_reason"] == "stop", done["split"]
assert 'not both' in errs[6], errs
assert 'messages[0] needs a string "role"' in errs[7], errs
assert 'field "stop" must be' in errs[8], errs
print("ok:", repr(chat["completion"][:60]), "| stop:", repr(done["stop"]["completion"]))
PY
pass "messages rendered with the model's chat template generate what their text does; stop strings cut the text"

printf '%s\n' '{"id": "c", "messages": [{"role": "user", "content": "hi"}]}' \
  '{"id": "p", "prompt": "Once upon a time"}' > "$WORK/notemplate.jsonl"
mpirun_llmpipe 2 120 run -m "$MODEL" --prompts "$WORK/notemplate.jsonl" -o "$WORK/nt" -n 4 \
  > "$WORK/nt.out" 2>&1 || { cat "$WORK/nt.out"; fail "run without a template failed"; }
grep -q '"id":"p"' "$WORK/nt/completions.jsonl" || fail "the prompt line did not complete"
grep -q 'the model has no chat template' "$WORK/nt/errors.jsonl" ||
  { cat "$WORK/nt/errors.jsonl"; fail "no error record for messages without a template"; }
pass "a model without a chat template: messages lines are error records, prompt lines complete"

# generate --chat/--system renders the same conversation; --stop (repeatable) cuts the output.
chat=$("$LLMPIPE_BIN" generate -m "$WORK/chat.gguf" --chat --system " Tom had a dog " \
  -p "Once upon a time" -n 24 --temperature 0 --no-echo 2>/dev/null)
text=$("$LLMPIPE_BIN" generate -m "$WORK/chat.gguf" -p "Tom had a dog. Once upon a time" -n 24 \
  --temperature 0 --no-echo 2>/dev/null)
[[ -n $chat && $chat == "$text" ]] || fail "generate --chat gave '$chat', the rendered text '$text'"
stopped=$("$LLMPIPE_BIN" generate -m "$WORK/chat.gguf" -p "Once upon a time" -n 48 --temperature 0 \
  --no-echo --stop park --stop Lily 2>"$WORK/gen.err")
[[ $stopped == ", there was a little girl named " ]] || fail "generate --stop gave '$stopped'"
grep -q "finish: stop" "$WORK/gen.err" || fail "generate --stop did not finish with stop"
"$LLMPIPE_BIN" generate -m "$MODEL" --chat -p hi > "$WORK/nochat.out" 2>&1 && fail "--chat without a template ran"
grep -q "has no chat template" "$WORK/nochat.out" || { cat "$WORK/nochat.out"; fail "--chat error unclear"; }
pass "generate --chat, --system and --stop"
