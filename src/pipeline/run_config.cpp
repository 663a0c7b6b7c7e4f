#include "pipeline/run_config.h"

#include <fstream>

#include "core/error.h"
#include "kernels/backend_factory.h"
#include "model/converting_tensor_source.h"

namespace llmpipe {

using nlohmann::json;

namespace {

json read_json(const std::string& path, const char* what) {
  std::ifstream f(path);
  if (!f) fail("cannot open ", what, " ", path);
  try {
    return json::parse(f);
  } catch (const json::parse_error& e) {
    fail(what, " ", path, " is not valid JSON: ", e.what());
  }
}

// Looks `key` up in the first of `sections` that has it (nullptr: the top level).
const json* lookup(const json& root, const std::string& key,
                   std::initializer_list<const char*> sections) {
  for (const char* s : sections) {
    const json* obj = s ? (root.contains(s) && root[s].is_object() ? &root[s] : nullptr) : &root;
    if (obj && obj->contains(key)) return &(*obj)[key];
  }
  return nullptr;
}

template <typename T>
void read(const json& root, const std::string& path, const std::string& key,
          std::initializer_list<const char*> sections, T& out) {
  const json* v = lookup(root, key, sections);
  if (!v || v->is_null()) return;
  try {
    out = v->get<T>();
  } catch (const json::exception&) {
    fail(path, ": field ", key, " has the wrong type (", v->type_name(), ")");
  }
}

}  // namespace

void apply_exp_config(RunConfig& c, const std::string& path) {
  const json j = read_json(path, "experiment config");
  if (!j.is_object()) fail("experiment config ", path, " must be a JSON object");
  const std::initializer_list<const char*> knobs = {nullptr, "inference", "generation"};
  read(j, path, "model_path", {"model"}, c.model_path);
  read(j, path, "model_name", {"model"}, c.model_name);
  std::string dtype;
  read(j, path, "dtype", {"model", nullptr, "inference"}, dtype);
  if (!dtype.empty()) c.weight_dtype = weight_dtype_from_name(dtype);
  read(j, path, "prompt_path", {"inputs"}, c.prompt_path);
  read(j, path, "output_dir", {"outputs"}, c.output_dir);
  read(j, path, "max_new_tokens", knobs, c.max_new_tokens);
  read(j, path, "temperature", knobs, c.temperature);
  read(j, path, "top_p", knobs, c.top_p);
  read(j, path, "top_k", knobs, c.top_k);
  read(j, path, "seed", knobs, c.seed);
  read(j, path, "batch_size", knobs, c.batch_size);
  read(j, path, "prefill_chunk", knobs, c.prefill_chunk);
  read(j, path, "ctx_size", knobs, c.ctx_size);
  read(j, path, "micro_batches", knobs, c.micro_batches);
  read(j, path, "kv_memory", knobs, c.kv_memory);
  std::string hop;
  read(j, path, "hop_type", knobs, hop);
  if (!hop.empty()) c.hop_type = hop_type_from_name(hop);
  std::string hop_transport;
  read(j, path, "hop_transport", knobs, hop_transport);
  if (!hop_transport.empty()) c.hop_transport = hop_transport_from_name(hop_transport);
  read(j, path, "hop_timeout", knobs, c.hop_timeout_s);
  read(j, path, "resume", {nullptr, "outputs"}, c.resume);
  read(j, path, "trace_path", {nullptr, "outputs"}, c.trace_path);
  read(j, path, "backend", knobs, c.backend);
  read(j, path, "gpu_layers", knobs, c.gpu_layers);
  read(j, path, "gpu_memory", knobs, c.gpu_memory);
  std::string weights;
  read(j, path, "weights", knobs, weights);
  if (!weights.empty()) c.weights = weight_placement_from_name(weights);
}

void apply_parallel_config(RunConfig& c, const std::string& path) {
  const json j = read_json(path, "parallel config");
  if (!j.is_object()) fail("parallel config ", path, " must be a JSON object");
  int pp = 0;
  read(j, path, "pipeline_parallel_size", {nullptr, "distributed_training"}, pp);
  if (pp != 0) c.pipeline_parallel_size = pp;
  read(j, path, "tensor_parallel_size", {nullptr, "distributed_training"}, c.tensor_parallel_size);
}

DType hop_type_from_name(const std::string& name) {
  const auto t = dtype_from_name(name);
  if (!t || (*t != DType::F32 && *t != DType::F16 && *t != DType::BF16 && *t != DType::Q8_0))
    fail("activation hop type must be f32, f16, bf16 or q8_0, got '", name, "'");
  return *t;
}

namespace {
// `option` (given) only makes sense on a GPU: an error unless `backend` resolves to CUDA.
void require_cuda_backend(const std::string& backend, const char* option, const char* why = "") {
  if (resolve_backend_kind(backend) != "cuda")
    fail(option, " needs the CUDA backend (--backend cuda, or auto with a GPU), not ", backend,
         why);
}
}  // namespace

void check_gpu_layers(int64_t gpu_layers, const std::string& backend) {
  if (gpu_layers < -1) fail("gpu_layers must be >= 0 (or -1: every layer), got ", gpu_layers);
  if (gpu_layers >= 0) require_cuda_backend(backend, "--gpu-layers");
}

void validate_run_config(const RunConfig& c, int world_size) {
  if (c.model_path.empty()) fail("no model: set model.model_path in the experiment config or --model");
  if (c.prompt_path.empty())
    fail("no prompts: set inputs.prompt_path in the experiment config or --prompts");
  if (c.pipeline_parallel_size && *c.pipeline_parallel_size != world_size)
    fail("pipeline_parallel_size is ", *c.pipeline_parallel_size, " but the job has ", world_size,
         " ranks: launch one rank per pipeline stage (e.g. mpirun -n ", *c.pipeline_parallel_size,
         " or srun --ntasks=", *c.pipeline_parallel_size, "), or change the parallel config");
  if (c.tensor_parallel_size != 1)
    fail("tensor_parallel_size is ", c.tensor_parallel_size,
         " but only pipeline parallelism is supported: set it to 1");
  if (c.max_new_tokens < 1) fail("max_new_tokens must be >= 1, got ", c.max_new_tokens);
  if (!(c.hop_timeout_s >= 0 && c.hop_timeout_s < 1e9))
    fail("hop_timeout must be a number of seconds >= 0 (0: no stall detection), got ",
         c.hop_timeout_s);
  if (c.batch_size < 1) fail("batch_size must be >= 1, got ", c.batch_size);
  if (c.prefill_chunk < 1) fail("prefill_chunk must be >= 1, got ", c.prefill_chunk);
  if (!(c.temperature >= 0)) fail("temperature must be >= 0, got ", c.temperature);
  if (!(c.top_p > 0 && c.top_p <= 1)) fail("top_p must be in (0, 1], got ", c.top_p);
  if (c.micro_batches < 0) fail("micro_batches must be >= 0 (0: one per stage), got ", c.micro_batches);
  if (c.micro_batches > c.batch_size)
    fail("micro_batches (", c.micro_batches, ") exceeds batch_size (", c.batch_size,
         "): each micro-batch needs at least one sequence; raise batch_size or set micro_batches");
  if (c.kv_type != DType::F16 && c.kv_type != DType::F32) fail("kv type must be f16 or f32");
  resolve_backend_kind(c.backend);  // unknown names, or cuda in a build without it
  check_gpu_layers(c.gpu_layers, c.backend);
  if (c.gpu_memory > 0) require_cuda_backend(c.backend, "--gpu-memory");
  if (c.hop_transport == HopTransport::Nccl)
    require_cuda_backend(c.backend, "--hop-transport nccl",
                         ": NCCL moves activations between GPUs");
  if (!c.layer_split.empty() && int(c.layer_split.size()) != world_size)
    fail("layer split has ", c.layer_split.size(), " entries but the job has ", world_size,
         " ranks");
}

json RunConfig::to_json() const {
  return {{"model_path", model_path},
          {"model_name", model_name},
          {"dtype", weight_dtype ? std::string(dtype_name(*weight_dtype)) : std::string("keep")},
          {"prompt_path", prompt_path},
          {"output_dir", output_dir},
          {"resume", resume},
          {"max_new_tokens", max_new_tokens},
          {"temperature", temperature},
          {"top_p", top_p},
          {"top_k", top_k},
          {"seed", seed},
          {"batch_size", batch_size},
          {"prefill_chunk", prefill_chunk},
          {"ctx_size", ctx_size},
          {"kv_type", std::string(dtype_name(kv_type))},
          {"micro_batches", micro_batches},
          {"kv_memory", kv_memory},
          {"hop_type", std::string(dtype_name(hop_type))},
          {"hop_transport", hop_transport_name(hop_transport)},
          {"hop_timeout", hop_timeout_s},
          {"weights", weight_placement_name(weights)},
          {"trace_path", trace_path},
          {"pipeline_parallel_size", pipeline_parallel_size ? json(*pipeline_parallel_size) : json()},
          {"tensor_parallel_size", tensor_parallel_size},
          {"layer_split", layer_split},
          {"threads", threads},
          {"backend", backend},
          {"gpu_layers", gpu_layers},
          {"gpu_memory", gpu_memory}};
}

}  // namespace llmpipe
