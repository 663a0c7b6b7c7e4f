#!/usr/bin/env python3
"""Renders every chat template in TEMPLATE_DIR over a set of conversations with Python's jinja2,
configured exactly as transformers' apply_chat_template configures it (trim_blocks,
lstrip_blocks, loopcontrols, its own tojson, raise_exception, strftime_now), the reference for
llmpipe's renderer (src/chat/).

  jinja_chat_render.py TEMPLATE_DIR OUT_DIR

Writes OUT_DIR/jobs.json (template, case, context of each render, for tests/tools/chat_render)
and OUT_DIR/expected/<template>__<case>.txt: the rendered text, or "<<raise_exception>> message"
when the template refused the conversation, or "<<error>>" for any other jinja2 error.
strftime_now uses the date in LLMPIPE_CHAT_DATE (YYYY-MM-DD) so both sides agree.
"""
import datetime
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

# bos/eos as each model's tokenizer_config.json has them (None: not set, so undefined).
TOKENS = {
    "meta-llama-Llama-3.1-8B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.3-70B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B": ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),
    "Qwen-Qwen2.5-7B-Instruct": (None, "<|im_end|>"),
    "Qwen-Qwen3-0.6B": (None, "<|im_end|>"),
    "HuggingFaceTB-SmolLM3-3B": (None, "<|im_end|>"),
    "mistralai-Mistral-Nemo-Instruct-2407": ("<s>", "</s>"),
    "Mistral-Small-3.2-24B-Instruct-2506": ("<s>", "</s>"),
    "microsoft-Phi-3.5-mini-instruct": ("<s>", "<|endoftext|>"),
    "google-gemma-2-2b-it": ("<bos>", "<eos>"),
    # tokenizer.chat_template of two of the test vocabularies (test_chat_templates.sh extracts them)
    "gguf-vocab-qwen2": ("<|endoftext|>", "<|endoftext|>"),
    "gguf-vocab-phi-3": ("<s>", "<|endoftext|>"),
    "ibm-granite-granite-3.3-2B-Instruct": ("<|end_of_text|>", "<|end_of_text|>"),
}

SYSTEM = {"role": "system", "content": "You are a terse assistant."}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"],
        },
    },
}
TOOL_CALL = {
    "role": "assistant",
    "content": "",
    "tool_calls": [
        {
            "id": "call12345",
            "type": "function",
            "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
        }
    ],
}

# name -> (messages, extra context variables)
CASES = {
    "user": ([{"role": "user", "content": "Hello!"}], {}),
    "system_user": ([SYSTEM, {"role": "user", "content": "What is 2+2?"}], {}),
    "multi_turn": (
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello! How can I help?"},
            {"role": "user", "content": "Tell me a joke."},
        ],
        {},
    ),
    "system_multi_turn": (
        [
            SYSTEM,
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Bye"},
        ],
        {},
    ),
    "unicode_whitespace": (
        [
            {"role": "user", "content": "  Ünïcödé — “quotes” <tag> & 'single' \"double\"\n\ttab  "},
            {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nSure.  "},
            {"role": "user", "content": "Again\n"},
        ],
        {},
    ),
    "not_alternating": (
        [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        {},
    ),
    "tools": ([{"role": "user", "content": "Weather in Paris?"}], {"tools": [WEATHER_TOOL]}),
    "tool_call": (
        [
            {"role": "user", "content": "Weather in Paris?"},
            TOOL_CALL,
            {"role": "tool", "tool_call_id": "call12345", "content": '{"temp": 21}'},
        ],
        {"tools": [WEATHER_TOOL]},
    ),
    "tool_call_null_content": (
        [
            {"role": "user", "content": "Weather in Paris?"},
            dict(TOOL_CALL, content=None),
            {"role": "tool", "tool_call_id": "call12345", "content": '{"temp": 21}'},
        ],
        {"tools": [WEATHER_TOOL]},
    ),
    "assistant_last": (
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there."}],
        {},
    ),
    "template_syntax_in_content": (
        [{"role": "user", "content": "{{ messages }} {% if x %}\\n{# c #}"}],
        {},
    ),
    "empty_content": ([{"role": "user", "content": ""}], {}),
    "no_thinking": (
        [{"role": "user", "content": "Quick answer: 1+1?"}],
        {"enable_thinking": False},
    ),
}


class RaisedByTemplate(jinja2.exceptions.TemplateError):
    pass


def make_env(now):
    def raise_exception(message):
        raise RaisedByTemplate(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
    return env


def render(env, source, context):
    try:
        return env.from_string(source).render(**context)
    except RaisedByTemplate as e:
        return "<<raise_exception>> " + str(e)
    except Exception:  # noqa: BLE001 - any other jinja2/Python error: ours must fail too
        return "<<error>>"


def main():
    template_dir, out_dir = sys.argv[1], sys.argv[2]
    date = os.environ.get("LLMPIPE_CHAT_DATE", "2026-01-15")
    env = make_env(datetime.datetime.strptime(date, "%Y-%m-%d"))
    os.makedirs(os.path.join(out_dir, "expected"), exist_ok=True)
    jobs = []
    for name in sorted(os.listdir(template_dir)):
        if not name.endswith(".jinja"):
            continue
        model = name[: -len(".jinja")]
        if model not in TOKENS:
            sys.exit(f"no bos/eos tokens known for {name}: add it to TOKENS")
        source = open(os.path.join(template_dir, name), encoding="utf-8").read()
        bos, eos = TOKENS[model]
        for case, (messages, extra) in CASES.items():
            for gen in (True, False):
                # transformers' render call: messages, tools, documents, add_generation_prompt,
                # then the special tokens and any extra keyword arguments.
                context = {"messages": messages, "tools": None, "documents": None,
                           "add_generation_prompt": gen}
                if bos is not None:
                    context["bos_token"] = bos
                if eos is not None:
                    context["eos_token"] = eos
                context.update(extra)
                label = f"{model}__{case}{'_gen' if gen else ''}"
                jobs.append({"template": name, "label": label, "context": context})
                with open(os.path.join(out_dir, "expected", label + ".txt"), "w", encoding="utf-8",
                          newline="") as f:
                    f.write(render(env, source, context))
    with open(os.path.join(out_dir, "jobs.json"), "w", encoding="utf-8") as f:
        json.dump(jobs, f, ensure_ascii=False, indent=1)
    print(f"{len(jobs)} renders of {len(TOKENS)} templates with jinja2 {jinja2.__version__}")


if __name__ == "__main__":
    main()
