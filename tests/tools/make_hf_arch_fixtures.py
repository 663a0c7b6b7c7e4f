#!/usr/bin/env python3
"""Tiny random-weight Hugging Face models of every supported architecture, with transformers'
own outputs, so that CI checks llmpipe's forward pass against transformers without torch.

    make_hf_arch_fixtures.py OUT_DIR [--gguf models/stories260K.gguf]
                             [--prompts tests/data/stories260K-greedy.jsonl]

Needs torch + transformers (5.x; written with torch 2.15, transformers 5.24) + safetensors.
For each variant OUT_DIR/<name>/ gets what save_pretrained writes (config.json,
model.safetensors in float32, generation_config.json), tokenizer.model (the SentencePiece
vocabulary of stories260K, 512 pieces, rebuilt from the GGUF by make_hf_fixture.py) and
reference.json: for each prompt (token ids), the last position's 512 logits and the 16 greedy
tokens of model.generate(do_sample=False) (EOS not stopping), plus the smallest gap between
the two best logits along the greedy path (how much numerical noise the greedy path tolerates).

Variants (vocab 512, 2 layers, hidden 64, GQA, float32 compute, attn_implementation="eager"):
  llama3-rope     LlamaForCausalLM, rope_scaling llama3 (factor 8, low 1, high 4, original
                  context 64: of the 8 frequencies of head_dim 16, one is kept, two are smoothed
                  and five divided by 8)
  llama-linear    LlamaForCausalLM, linear rope scaling (factor 4)
  mistral-window  MistralForCausalLM, sliding_window 8 (prompts up to 29 tokens + 16 generated)
  qwen2           Qwen2ForCausalLM: q/k/v biases, tied embeddings, rope base 1e6
  qwen3           Qwen3ForCausalLM: q/k RMSNorm, head_dim 32 != 64 / 4 heads
Weights: normal(0, 0.2) matrices (transformers' 0.02 makes near-uniform logits whose argmax
float noise could decide), biases normal(0, 0.2), norm weights 1 + normal(0, 0.1); seed 1234.
"""
import argparse
import json
import math
import os
import sys

import torch
import transformers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from make_hf_fixture import read_gguf, sentencepiece_model  # noqa: E402

SEED = 1234
N_NEW = 16

COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
              rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, hidden_act="silu")

VARIANTS = {
    "llama3-rope": (transformers.LlamaConfig, dict(
        rope_theta=10000.0, tie_word_embeddings=False,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64})),
    "llama-linear": (transformers.LlamaConfig, dict(
        rope_theta=10000.0, tie_word_embeddings=False,
        rope_scaling={"rope_type": "linear", "factor": 4.0})),
    "mistral-window": (transformers.MistralConfig, dict(
        rope_theta=1000000.0, sliding_window=8, tie_word_embeddings=False)),
    "qwen2": (transformers.Qwen2Config, dict(
        rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False)),
    "qwen3": (transformers.Qwen3Config, dict(
        rope_theta=1000000.0, head_dim=32, tie_word_embeddings=False, use_sliding_window=False,
        attention_bias=False)),
}


def randomize(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or "layernorm" in name:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))


def prompts_from(path):
    refs = [json.loads(line) for line in open(path)]
    prompts = [r["prompt_tokens"] for r in refs]
    # Longer than mistral's window of 8: a prompt and the start of its llama.cpp completion.
    prompts.append(refs[0]["prompt_tokens"] + refs[0]["greedy_tokens"][:24])
    return prompts


def reference(model, prompts):
    out = []
    for ids in prompts:
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(x).logits[0, -1].float()
            gen = model.generate(x, max_new_tokens=N_NEW, min_new_tokens=N_NEW, do_sample=False,
                                 eos_token_id=None, pad_token_id=0)[0, len(ids):].tolist()
            # The same path by plain forward passes (no KV cache): its top-2 gaps.
            seq, gaps = list(ids), []
            for tok in gen:
                step = model(torch.tensor([seq])).logits[0, -1]
                top = torch.topk(step, 2).values
                gaps.append(float(top[0] - top[1]))
                if int(step.argmax()) != tok:
                    sys.exit(f"generate and greedy forward disagree at {len(seq)}")
                seq.append(tok)
        out.append({"prompt_tokens": ids, "last_logits": [float(v) for v in logits],
                    "greedy_tokens": gen, "min_top2_gap": min(gaps)})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--gguf", default="models/stories260K.gguf")
    ap.add_argument("--prompts", default="tests/data/stories260K-greedy.jsonl")
    a = ap.parse_args()
    meta, _ = read_gguf(a.gguf)
    spm = sentencepiece_model(meta)
    prompts = prompts_from(a.prompts)
    torch.manual_seed(SEED)
    for i, (name, (cls, extra)) in enumerate(VARIANTS.items()):
        config = cls(**COMMON, **extra)
        config._attn_implementation = "eager"
        model = transformers.AutoModelForCausalLM.from_config(
            config, attn_implementation="eager", dtype=torch.float32)
        gen = torch.Generator().manual_seed(SEED + i)
        randomize(model, gen)
        if extra.get("tie_word_embeddings"):
            model.tie_weights()
        model.eval()
        d = os.path.join(a.out, name)
        os.makedirs(d, exist_ok=True)
        model.save_pretrained(d, safe_serialization=True)
        with open(os.path.join(d, "tokenizer.model"), "wb") as f:
            f.write(spm)
        ref = {"model": name, "class": type(model).__name__,
               "transformers": transformers.__version__, "torch": torch.__version__,
               "prompts": reference(model, prompts)}
        with open(os.path.join(d, "reference.json"), "w") as f:
            json.dump(ref, f)
        gaps = [p["min_top2_gap"] for p in ref["prompts"]]
        print(f"{name}: {type(model).__name__}, min top-2 gap {min(gaps):.4g}, "
              f"logit range {min(min(p['last_logits']) for p in ref['prompts']):.3g}.."
              f"{max(max(p['last_logits']) for p in ref['prompts']):.3g}")


if __name__ == "__main__":
    main()
