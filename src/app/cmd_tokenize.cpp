// `llmpipe tokenize`: a text's token ids as the model's tokenizer gives them.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "app/commands.h"
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "model/model_source.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe::app {

namespace {

namespace fs = std::filesystem;

struct TokenizeOptions {
  std::string model = default_model_path();
  std::string prompt;
  std::string file;
  bool ids_only = false;
  bool no_bos = false;
  bool special = false;
};

// The vocabulary alone: a GGUF file (vocab-only ones too), a Hugging Face model directory (as
// `run` sees it: config.json's special ids and padded vocabulary), or a directory holding just
// tokenizer files.
Vocab load_vocab(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("model path ", path, " does not exist");
  if (!fs::is_directory(path, ec)) return vocab_from_gguf(gguf::Reader::open(path));
  if (fs::is_regular_file(fs::path(path) / "config.json", ec)) return open_model(path).load_vocab();
  return hf_vocab_reader(path)();
}

// A piece printable on one line: C escapes for control characters, \xNN for bytes that are not
// (yet) a whole UTF-8 character.
std::string escape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c < 0x20 || c == 0x7f || c >= 0x80) {
      const size_t len = c < 0x80 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
      bool whole = len > 0 && i + len <= s.size();
      for (size_t k = 1; whole && k < len; ++k)
        whole = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      if (whole) {
        out.append(s, i, len);
        i += len - 1;
        continue;
      }
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open ", path);
  return {std::istreambuf_iterator<char>(f), {}};
}

void run_tokenize(const TokenizeOptions& o) {
  if (o.prompt.empty() == o.file.empty())
    fail("give the text with -p TEXT or -f FILE (one of them)");
  const Tokenizer tok(load_vocab(o.model));
  const std::string text = o.file.empty() ? o.prompt : read_file(o.file);
  const bool bos = tok.vocab().add_bos && !o.no_bos;
  const std::vector<int32_t> ids = tok.encode(text, bos, o.special);
  if (o.ids_only) {
    std::string line;
    for (int32_t id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", line.c_str());
    return;
  }
  for (int32_t id : ids) {
    // Control tokens have no text in a decoded string: show what they are called.
    const std::string piece = tok.is_control(id) ? tok.token_text(id) : tok.piece_text(id);
    std::printf("%d\t%s\n", id, escape(piece).c_str());
  }
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand(
      "tokenize",
      "Print the tokens of a text: one 'id<TAB>piece' per line (pieces escaped: \\n, "
      "\\t, \\xNN for part of a character), or the ids on one line with --ids");
  cmd->add_option("-m,--model", o->model,
                  "GGUF file (vocab-only ones too), Hugging Face model directory, or a directory "
                  "with tokenizer.json / tokenizer.model")
      ->capture_default_str();
  cmd->add_option("-p,--prompt", o->prompt, "the text");
  cmd->add_option("-f,--file", o->file, "read the text from this file (as is, newlines included)");
  cmd->add_flag("--ids", o->ids_only, "print only the ids, space separated, on one line");
  cmd->add_flag("--no-bos", o->no_bos,
                "do not add BOS (by default added if the vocabulary says so)");
  cmd->add_flag("--special", o->special,
                "parse control tokens written in the text (<|eot_id|>, <|im_start|>, <s>...)");
  cmd->callback([o] { run_tokenize(*o); });
}

}  // namespace llmpipe::app
