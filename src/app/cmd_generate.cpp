// `llmpipe generate`: one prompt, one process, text streamed to stdout, speed on stderr.
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/dtype_option.h"
#include "chat/chat_prompt.h"
#include "core/thread_pool.h"
#include "kernels/backend_factory.h"
#include "model/converting_tensor_source.h"
#include "model/model_source.h"
#include "model/stage_offload.h"
#include "pipeline/device_memory_plan.h"
#include "pipeline/run_config.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe::app {

namespace {

struct GenerateOptions {
  std::string model = default_model_path();
  std::string prompt = "Once upon a time";
  int64_t max_new_tokens = 128;
  SamplingParams sampling;
  int threads = available_cpus();
  int64_t ctx_size = 0;  // 0: the model's
  int64_t batch = 512;   // prefill chunk
  bool echo = true;
  std::string backend = "cpu";
  int64_t gpu_layers = -1;  // -1: all
  std::string dtype = "keep";
  bool chat = false;              // -p is one user message, rendered with the chat template
  std::string system;             // with --chat: a system message first
  std::vector<std::string> stop;  // the text ends before the first of these
};

// The prompt's tokens and the text echoed: as given, or with --chat the rendered template.
std::vector<int32_t> prompt_tokens(const GenerateOptions& o, const Tokenizer& tokenizer,
                                   std::string& shown) {
  shown = o.prompt;
  if (!o.chat) return tokenizer.encode(o.prompt, tokenizer.vocab().add_bos);
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  messages.push_back({{"role", "user"}, {"content", o.prompt}});
  chat::ChatPrompt p = chat::ChatFormatter(tokenizer).render(messages);
  shown = std::move(p.text);
  return std::move(p.tokens);
}

void run_generate(const GenerateOptions& o) {
  if (!o.system.empty() && !o.chat) fail("--system needs --chat (a system message of a chat)");
  const ModelSource model = open_model(o.model, weight_dtype_from_name(o.dtype));
  const Tokenizer tokenizer(model.load_vocab());
  const LlamaHParams& h = model.hparams;
  const int64_t n_ctx = o.ctx_size > 0 ? std::min(o.ctx_size, h.n_ctx_train) : h.n_ctx_train;

  check_gpu_layers(o.gpu_layers, o.backend);
  const std::unique_ptr<Backend> backend_owner = make_backend({.kind = o.backend, .threads = o.threads});
  Backend& backend = *backend_owner;
  const StageSpec spec{{0, h.n_layer}, true, true};
  const KvCacheShape kv{h.n_layer, 1, n_ctx, h.kv_dim()};
  const int64_t max_tokens = std::min(o.batch, n_ctx);
  // --gpu-layers (default: all that fit): the layers after the first N run on the CPU.
  const DevicePlacement placement = place_on_device(backend, *model.tensors, h, spec, kv,
                                                    max_tokens, 1, o.gpu_layers, 0, "the model");
  if (placement.plan)
    std::fprintf(stderr, "%s: %s\n", backend.name().c_str(), placement.plan->describe().c_str());
  if (!placement.note.empty()) std::fprintf(stderr, "%s\n", placement.note.c_str());
  const std::unique_ptr<Backend> host_backend =  // the other layers' backend
      placement.gpu_layers >= 0 ? make_backend({.kind = "cpu", .threads = o.threads}) : nullptr;
  const auto stage_owner = make_offloaded_stage(*model.tensors, h, spec, backend, host_backend.get(),
                                                placement.gpu_layers, kv, max_tokens, 1);
  LlamaStage& stage = *stage_owner;

  std::string shown;
  const auto prompt = prompt_tokens(o, tokenizer, shown);
  const auto end_ids = tokenizer.end_of_generation_ids();
  const StopRule stop{
      tokenizer.eos_id(), o.max_new_tokens, n_ctx, {end_ids.begin(), end_ids.end()}};
  Sampler sampler(o.sampling);
  StreamDecoder decoder(tokenizer, /*at_text_start=*/false);
  StopStrings stops(o.stop);
  size_t printed = 0;  // text held back while it may be the start of a stop string
  auto print_safe = [&](size_t upto) {
    std::cout << stops.text().substr(printed, upto - printed) << std::flush;
    printed = upto;
  };
  if (o.echo) std::cout << shown << std::flush;
  Generator generator(stage);
  const auto r = generator.generate(prompt, stop, sampler, [&](int32_t t) {
    const bool done = stops.append(decoder.push(t));
    print_safe(stops.safe_length());
    return done;
  });
  stops.append(decoder.flush());
  print_safe(stops.text().size());
  std::cout << std::endl;

  std::fprintf(stderr,
               "\nprompt: %zu tokens in %.3f s (%.1f tok/s) | generated: %zu tokens in %.3f s "
               "(%.1f tok/s) | finish: %s | %s\n",
               prompt.size(), r.prompt_s, double(prompt.size()) / std::max(r.prompt_s, 1e-9),
               r.tokens.size(), r.generate_s,
               double(r.tokens.size()) / std::max(r.generate_s, 1e-9),
               finish_reason_name(r.finish), backend.name().c_str());
}

}  // namespace

void register_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "Generate text from one prompt in this process");
  cmd->add_option("-m,--model", o->model, "GGUF model file, directory holding one, or Hugging Face model directory")
      ->capture_default_str();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->capture_default_str();
  cmd->add_option("-n,--max-new-tokens", o->max_new_tokens, "Most tokens to generate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o->sampling.temperature, "Sampling temperature; 0 is greedy")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->sampling.top_p, "Nucleus sampling mass, in (0, 1]")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--top-k", o->sampling.top_k, "Sample among the k most likely tokens; 0 = all")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", o->sampling.seed, "Random seed for sampling")->capture_default_str();
  cmd->add_option("-t,--threads", o->threads, "Compute threads (default: the CPUs this process may use)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-c,--ctx-size", o->ctx_size, "Context length; 0 = the model's")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch-tokens", o->batch, "Prompt tokens processed per forward pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  add_load_dtype_option(cmd, o->dtype)->capture_default_str();
  cmd->add_flag("!--no-echo", o->echo, "Print only the generated text, not the prompt");
  cmd->add_flag("--chat", o->chat,
                "Treat the prompt as one user message, rendered with the model's chat template");
  cmd->add_option("--system", o->system, "With --chat: a system message before the prompt");
  cmd->add_option("--stop", o->stop,
                  "Stop when the text contains this string, which is left out (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--backend", o->backend, "Compute backend: cpu, cuda or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--gpu-layers", o->gpu_layers, "With --backend cuda: layers on the GPU, the rest on the CPU (default: all that fit, the rest on the CPU; an error when not one fits)");
  cmd->callback([o] { run_generate(*o); });
}

}  // namespace llmpipe::app
