#!/usr/bin/env bash
# An OpenAI Batch API file through a 2-stage pipeline. The request bodies are checked against
# the official `openai` client's parameter types before the run; every output line's response
# body must validate as the client's ChatCompletion / Completion; the texts equal those of the
# same requests written in llmpipe's own prompts form (greedy); requests llmpipe cannot honour
# (n = 2, an unsupported url, max_tokens 0) get a 400 response each, in input order, while the
# others complete; a resumed batch run keeps its completions and writes the same output.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
chat_model "$python" "$WORK/chat.gguf"

"$python" - "$WORK" <<'PY'
import json, sys
from pydantic import TypeAdapter
from openai.types.chat import completion_create_params as chat_params
from openai.types import completion_create_params as text_params
work = sys.argv[1]
conv = [{"role": "system", "content": " Tom had a dog "}, {"role": "user", "content": "Once upon a time"}]
chat = {"model": "stories", "messages": conv, "max_tokens": 24, "temperature": 0}
text = {"model": "stories", "prompt": "Once upon a time", "max_tokens": 24, "temperature": 0}
listed = {"model": "stories", "prompt": ["Once upon a time"], "max_tokens": 40, "stop": ["Lily"],
          "temperature": 0, "n": 1, "stream": False, "presence_penalty": 0}
mct = {"model": "stories", "messages": conv, "max_completion_tokens": 8, "temperature": 0}
two = {"model": "stories", "messages": conv, "n": 2}
zero = {"model": "stories", "prompt": "x", "max_tokens": 0}
for body in (chat, mct, two):
    TypeAdapter(chat_params.CompletionCreateParamsNonStreaming).validate_python(body)
for body in (text, listed, zero):
    TypeAdapter(text_params.CompletionCreateParamsNonStreaming).validate_python(body)
req = lambda cid, url, body: json.dumps({"custom_id": cid, "method": "POST", "url": url, "body": body})
C, T = "/v1/chat/completions", "/v1/completions"
with open(f"{work}/batch.jsonl", "w") as f:
    for line in [req("chat", C, chat), req("text", T, text), req("n2", C, two),
                 req("embed", "/v1/embeddings", {"input": "x"}), req("list", T, listed),
                 req("zero", T, zero), req("mct", C, mct)]:
        print(line, file=f)
with open(f"{work}/ours.jsonl", "w") as f:
    print(json.dumps({"id": "chat", "messages": conv, "max_new_tokens": 24}), file=f)
    print(json.dumps({"id": "text", "prompt": "Once upon a time", "max_new_tokens": 24}), file=f)
    print(json.dumps({"id": "list", "prompt": "Once upon a time", "max_new_tokens": 40, "stop": ["Lily"]}), file=f)
    print(json.dumps({"id": "mct", "messages": conv, "max_new_tokens": 8}), file=f)
with open(f"{work}/mixed.jsonl", "w") as f:
    print(req("a", T, text), file=f)
    print(json.dumps({"id": "b", "prompt": "Once upon a time"}), file=f)
PY
for form in batch ours; do
  mpirun_llmpipe 2 120 run -m "$WORK/chat.gguf" --prompts "$WORK/$form.jsonl" -o "$WORK/$form" \
    -n 48 --temperature 0 > "$WORK/$form.out" 2>&1 || { cat "$WORK/$form.out"; fail "$form run failed"; }
done
[[ ! -e "$WORK/ours/batch_output.jsonl" ]] || fail "a prompts-form run wrote batch_output.jsonl"

check_output() {
  "$python" - "$WORK" "$1" <<'PY'
import json, sys
from openai.types import Completion
from openai.types.chat import ChatCompletion
work, out = sys.argv[1], sys.argv[2]
lines = [json.loads(l) for l in open(f"{out}/batch_output.jsonl")]
assert [l["custom_id"] for l in lines] == ["chat", "text", "n2", "embed", "list", "zero", "mct"], lines
ours = {c["id"]: c for c in map(json.loads, open(f"{work}/ours/completions.jsonl"))}
by = {l["custom_id"]: l for l in lines}
for cid, kind in [("chat", ChatCompletion), ("text", Completion), ("list", Completion), ("mct", ChatCompletion)]:
    l = by[cid]
    assert l["error"] is None and l["response"]["status_code"] == 200, l
    body = kind.model_validate(l["response"]["body"])
    assert body.model == "stories", body.model
    choice = body.choices[0]
    got = choice.message.content if kind is ChatCompletion else choice.text
    want = ours[cid]
    assert got == want["completion"] and got, (cid, got, want["completion"])
    assert body.usage.prompt_tokens == want["prompt_tokens"], (cid, body.usage, want)
    assert body.usage.completion_tokens == want["completion_tokens"], (cid, body.usage, want)
    assert body.usage.total_tokens == want["prompt_tokens"] + want["completion_tokens"]
    assert choice.finish_reason == ("stop" if cid == "list" else "length"), (cid, choice.finish_reason)
assert by["mct"]["response"]["body"]["usage"]["completion_tokens"] == 8, by["mct"]
for cid, why in [("n2", "body.n = 2 is not supported"), ("embed", 'field "url" must be'),
                 ("zero", "body.max_tokens must be an integer >= 1")]:
    l = by[cid]
    assert l["response"]["status_code"] == 400, l
    assert why in l["response"]["body"]["error"]["message"], (why, l)
print("ok:", repr(by["chat"]["response"]["body"]["choices"][0]["message"]["content"][:50]))
PY
}
check_output "$WORK/batch" || fail "batch output"
pass "OpenAI batch requests validate with the openai client's types and complete as the same prompts do"

# Resume: the kept completions are not rerun; the output is the same, line for line.
mkdir -p "$WORK/resumed"
head -n 2 "$WORK/batch/completions.jsonl" > "$WORK/resumed/completions.jsonl"
mpirun_llmpipe 2 120 run -m "$WORK/chat.gguf" --prompts "$WORK/batch.jsonl" -o "$WORK/resumed" \
  -n 48 --temperature 0 --resume > "$WORK/resumed.out" 2>&1 ||
  { cat "$WORK/resumed.out"; fail "resumed batch run failed"; }
grep -q "resume: 2 completions kept, 2 of 4 prompts to run" "$WORK/resumed/rank_0.log" ||
  { cat "$WORK/resumed/rank_0.log"; fail "resume did not keep 2 completions"; }
check_output "$WORK/resumed" || fail "resumed batch output"
pass "a resumed batch run keeps its completions and writes every request's output"

mpirun_llmpipe 2 120 run -m "$WORK/chat.gguf" --prompts "$WORK/mixed.jsonl" -o "$WORK/mixed" \
  -n 4 > "$WORK/mixed.out" 2>&1 || { cat "$WORK/mixed.out"; fail "mixed run failed"; }
grep -q 'line 1 made this an OpenAI batch file, but this line has no \\"custom_id\\"' \
  "$WORK/mixed/errors.jsonl" || { cat "$WORK/mixed/errors.jsonl"; fail "mixed forms: no clear error"; }
pass "a file mixing the two forms records an error for the odd line"
