#include <cstdlib>
#include <string>

#include "app/commands.h"

#ifndef LLMPIPE_DEFAULT_MODEL
#define LLMPIPE_DEFAULT_MODEL "models/stories260K.gguf"
#endif

namespace llmpipe::app {

std::string default_model_path() {
  if (const char* env = std::getenv("LLMPIPE_MODEL"); env && *env) return env;
  return LLMPIPE_DEFAULT_MODEL;
}

}  // namespace llmpipe::app
