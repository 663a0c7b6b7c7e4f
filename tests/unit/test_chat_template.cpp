// The chat template renderer (src/chat/) piece by piece: whitespace rules, expressions, loops,
// scoping, filters, methods, tojson, and the errors for what it does not support. The expected
// strings are what Python's jinja2 3.1 gives under transformers' settings (checked by hand with
// jinja2; test_chat_templates.sh compares whole real templates).
#include <gtest/gtest.h>

#include <string>

#include "chat/chat_template.h"

namespace llmpipe::chat {
namespace {

using nlohmann::ordered_json;

std::tm fixed_day() {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;  // July
  tm.tm_mday = 26;
  return tm;
}

std::string render(const std::string& src, const ordered_json& ctx = ordered_json::object()) {
  return ChatTemplate(src).render(ctx, fixed_day());
}

// The message of the error rendering (or parsing) src throws.
std::string error_of(const std::string& src, const ordered_json& ctx = ordered_json::object()) {
  try {
    render(src, ctx);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ChatTemplate, TrimBlocksAndLstripBlocksAsTransformers) {
  // trim_blocks drops the newline after a block tag, lstrip_blocks the indentation before it;
  // neither touches {{ }}.
  EXPECT_EQ(render("{% if true %}\n    a\n    {% endif %}\nb"), "    a\nb");
  EXPECT_EQ(render("  {{ 'x' }}\n"), "  x");  // one trailing newline of the source dropped
  EXPECT_EQ(render("{# note #}\nA  {# c #}B"), "A  B");
  EXPECT_EQ(render("a  \n  {%- if true -%}  \n b {%+ endif %}"), "ab ");
  EXPECT_EQ(render("x {{- ' y ' -}} z"), "x y z");
}

TEST(ChatTemplate, ExpressionsFollowPython) {
  EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }}"),
            "3 -4 1 2 3.5 1024");
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 1 < 2 < 3 }}"),
            "True True True True");
  EXPECT_EQ(
      render("{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [3] }}"),
      "True True True False");
  EXPECT_EQ(render("{{ none }} {{ [1, 'a', none, true] }} {{ {'k': 'v'} }} {{ 0.1 + 0.2 }}"),
            "None [1, 'a', None, True] {'k': 'v'} 0.30000000000000004");
  EXPECT_EQ(
      render("{{ 'abc'[::-1] }} {{ [1, 2, 3, 4][1:3] }} {{ 'héllo'[1] }} {{ [1, 2, 3][-1] }}"),
      "cba [2, 3] é 3");
  EXPECT_EQ(render("{{ 'a' if x else 'b' }}{{ 'c' if not x }}{{ x or 'd' }}{{ 1 and 2 }}"), "bcd2");
  EXPECT_EQ(render("{{ 'a' ~ 1 ~ none }} {{ [1] + [2] }} {{ 'ab' * 2 }}"), "a1None [1, 2] abab");
  // Filters bind tighter than arithmetic: (messages | length) - 1.
  EXPECT_EQ(render("{{ m | length - 1 }}", {{"m", {1, 2, 3}}}), "2");
}

TEST(ChatTemplate, TruthinessAndUndefined) {
  EXPECT_EQ(
      render(
          "{% for v in [0, 0.0, '', [], {}, none, 1, 'x', [0]] %}{{ 1 if v else 0 }}{% endfor %}"),
      "000000111");
  // Undefined prints nothing, is falsy, iterates as empty, and `in` it is false.
  EXPECT_EQ(render("[{{ nope }}]{% if not nope %}f{% endif %}{% for x in nope %}x{% endfor %}"
                   "{{ 'a' in nope }}{{ nope | length }}"),
            "[]fFalse0");
  EXPECT_EQ(render("{{ d.missing is defined }} {{ d.k }} {{ 's'.nothing is defined }}",
                   {{"d", {{"k", 1}}}}),
            "False 1 False");
}

TEST(ChatTemplate, LoopVariablesFilterElseAndControl) {
  EXPECT_EQ(
      render("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}"
             "{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}"),
      "10TrueFalse3b;21FalseFalse3ac;32FalseTrue3b;");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}:{{ x }} {% endfor %}"),
            "1:2 2:4 ");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}"
                   "{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "13");
  EXPECT_EQ(render("{% for k, v in d | items %}{{ k }}={{ v }},{% endfor %}"
                   "{% for k, v in d.items() if k != 'b' %}{{ k }}{% endfor %}",
                   {{"d", {{"z", 1}, {"b", 2}}}}),
            "z=1,b=2,z");
}

TEST(ChatTemplate, ScopingAndNamespace) {
  // set inside a for body stays there; set inside if does not; namespace carries state out.
  EXPECT_EQ(render("{% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{% endfor %}{{ a }}"
                   "{% if true %}{% set a = 3 %}{% endif %}{{ a }}"),
            "13");
  EXPECT_EQ(render("{% set ns = namespace(n=0, s='') %}{% for x in [1, 2, 3] %}"
                   "{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(render("{% set b %}in {{ 'block' }}{% endset %}[{{ b }}]"), "[in block]");
  EXPECT_EQ(
      render("{% set messages = messages[1:] %}{{ messages | length }}", {{"messages", {1, 2, 3}}}),
      "2");
}

TEST(ChatTemplate, FiltersAndMethods) {
  EXPECT_EQ(render("{{ '  a b \n' | trim }}|{{ 'x' | upper }}{{ 'Ab' | lower }}|"
                   "{{ 'hello world' | title }}|{{ 'hELLO' | capitalize }}"),
            "a b|Xab|Hello World|Hello");
  EXPECT_EQ(render("{{ [1, 2] | join(', ') }}|{{ x | default('d') }}|{{ '' | default('e', true) }}|"
                   "{{ [3, 4] | first }}{{ [3, 4] | last }}|{{ 'ab' | list }}|{{ 'a-b' | "
                   "replace('-', '+') }}"),
            "1, 2|d|e|34|['a', 'b']|a+b");
  const ordered_json msgs = {
      {{"role", "user"}, {"c", 1}}, {{"role", "bot"}, {"c", 2}}, {{"role", "user"}, {"c", 3}}};
  EXPECT_EQ(render("{{ m | selectattr('role', 'equalto', 'user') | map(attribute='c') | list }}"
                   "{{ m | rejectattr('role', 'equalto', 'user') | list | length }}"
                   "{{ ['a', 'b', 'c'] | reject('equalto', 'b') | join }}",
                   {{"m", msgs}}),
            "[1, 3]1ac");
  EXPECT_EQ(render("{{ ' x\n'.strip() }}|{{ 'xxaxx'.lstrip('x') }}|{{ 'a\n\n'.rstrip('\\n') }}|"
                   "{{ 'a</think>b'.split('</think>')[-1] }}|{{ ' a  b '.split() }}|"
                   "{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}|"
                   "{{ 'aXa'.replace('a', 'b') }}|{{ 'ab'.upper() }}"),
            "x|axx|a|b|['a', 'b']|TrueTrue|bXb|AB");
  EXPECT_EQ(render("{{ d.get('k') }} {{ d.get('no') }} {{ d.get('no', 5) }} {{ d.keys() | list }}",
                   {{"d", {{"k", 1}}}}),
            "1 None 5 ['k']");
}

TEST(ChatTemplate, TestsLikeJinja2) {
  EXPECT_EQ(render("{{ x is defined }}{{ x is undefined }}{{ none is none }}{{ 's' is string }}"
                   "{{ {} is mapping }}{{ [] is iterable }}{{ 's' is sequence }}{{ 1.5 is number }}"
                   "{{ true is boolean }}{{ false is false }}{{ 1 is true }}{{ 3 is odd }}"
                   "{{ 4 is divisibleby 2 }}{{ 'a' is equalto 'a' }}{{ x is not defined }}"
                   "{{ 'a' is lower }}{{ '' is lower }}{{ '1' is upper }}"),
            "FalseTrueTrueTrueTrueTrueTrueTrueTrueTrueFalseTrueTrueTrueTrueTrueFalseFalse");
}

TEST(ChatTemplate, ToJsonIsPythonJsonDumps) {
  const ordered_json v = {
      {"b", 1}, {"a", {1.5, "é\"<&>'\n", nullptr, true}}, {"e", ordered_json::array()}};
  // transformers' tojson: keys in order, ", " and ": ", no HTML escaping, non-ASCII kept.
  EXPECT_EQ(render("{{ v | tojson }}", {{"v", v}}),
            R"({"b": 1, "a": [1.5, "é\"<&>'\n", null, true], "e": []})");
  EXPECT_EQ(
      render("{{ v | tojson(indent=2) }}", {{"v", {{"k", {1, 2}}, {"o", ordered_json::object()}}}}),
      "{\n  \"k\": [\n    1,\n    2\n  ],\n  \"o\": {}\n}");
  EXPECT_EQ(render("{{ 'é😀' | tojson(ensure_ascii=true) }}"), R"("\u00e9\ud83d\ude00")");
  EXPECT_EQ(render("{{ [1.0, 1e-05, 1e16, 123.456] | tojson }}"), "[1.0, 1e-05, 1e+16, 123.456]");
}

TEST(ChatTemplate, GlobalsRaiseAndDate) {
  EXPECT_EQ(render("{{ strftime_now('%Y-%m-%d %b') }}"), "2024-07-26 Jul");
  EXPECT_EQ(render("{{ range(3) | list }}"), "[0, 1, 2]");
  try {
    render("{% if true %}\n  {{ raise_exception('Roles must alternate') }}{% endif %}");
    FAIL() << "raise_exception did not throw";
  } catch (const TemplateError& e) {
    EXPECT_TRUE(e.raised());
    EXPECT_EQ(e.message(), "Roles must alternate");
    EXPECT_NE(std::string(e.what()).find("line 2, column 6"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, ChatContextAsTransformersPassesIt) {
  const ordered_json messages = {{{"role", "user"}, {"content", "Hi"}}};
  const ordered_json c =
      chat_context(messages, {.add_generation_prompt = true, .bos_token = "<s>", .eos_token = {}});
  EXPECT_EQ(
      render("{{ bos_token }}{{ messages[0].content }}{{ tools is none }}{{ eos_token is defined }}"
             "{{ add_generation_prompt }}",
             c),
      "<s>HiTrueFalseTrue");
}

TEST(ChatTemplate, ErrorsNameThePositionAndWhatIsWrong) {
  auto has = [](const std::string& msg, const std::string& part) {
    return msg.find(part) != std::string::npos;
  };
  std::string e = error_of("ab\n{% macro m() %}{% endmacro %}");
  EXPECT_TRUE(has(e, "line 2, column 4") && has(e, "{% macro %} is not supported")) << e;
  e = error_of("{{ 'x' | frobnicate }}");
  EXPECT_TRUE(has(e, "line 1, column 8") && has(e, "filter 'frobnicate' is not supported")) << e;
  e = error_of("{% for x in y %}");
  EXPECT_TRUE(has(e, "never closed") && has(e, "endfor")) << e;
  e = error_of("{{ 'a' + 1 }}");
  EXPECT_TRUE(has(e, "unsupported operand type(s) for +: 'str' and 'int'")) << e;
  e = error_of("{{ x.y.z }}");
  EXPECT_TRUE(has(e, "'x' is undefined")) << e;
  e = error_of("{{ 'abc");
  EXPECT_TRUE(has(e, "string literal is never closed")) << e;
  e = error_of("{% set x = 1 %}{% set x.a = 2 %}");
  EXPECT_TRUE(has(e, "not a namespace()")) << e;
  e = error_of("{{ [].append(1) }}");
  EXPECT_TRUE(has(e, "sandbox forbids")) << e;
  e = error_of("{{ 'a' is frob }}");
  EXPECT_TRUE(has(e, "test 'frob' is not supported")) << e;
  e = error_of("{{ " + std::string(500, '(') + "1" + std::string(500, ')') + " }}");
  EXPECT_TRUE(has(e, "nests deeper than 200 levels")) << e;
  e = error_of("{{ 'ab' * 100000000 }}");
  EXPECT_TRUE(has(e, "repetition longer than")) << e;
  e = error_of("{{ 10 ** 100 }}");
  EXPECT_TRUE(has(e, "too large")) << e;
  e = error_of("{{ x }", {});
  EXPECT_TRUE(has(e, "never closed")) << e;
  // Loops bounded in steps (an empty inner body still counts its iterations) and output.
  e = error_of("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}");
  EXPECT_TRUE(has(e, "chat template line 1, column 31") && has(e, "more than 1000000 steps")) << e;
  e = error_of("{% for i in range(1000) %}{{ 'x' * 9000000 }}{% endfor %}");
  EXPECT_TRUE(has(e, "output longer than 64 MiB")) << e;
  // Well within the budget: 400 * 1000 inner iterations (real templates take thousands).
  EXPECT_EQ(render("{% for i in range(400) %}{% for j in range(1000) %}{% endfor %}{% endfor %}ok"), "ok");
}

}  // namespace
}  // namespace llmpipe::chat
