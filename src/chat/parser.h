// Tokens to statements, with Jinja2's grammar and operator precedence (filters and tests bind
// tighter than arithmetic: `a + b | trim` is `a + (b | trim)`). A construct outside the subset
// chat templates use (macro, include, extends, ...) is an Error naming it and its position.
#pragma once

#include <string_view>

#include "chat/ast.h"

namespace llmpipe::chat {

Body parse_template(std::string_view source);

}  // namespace llmpipe::chat
