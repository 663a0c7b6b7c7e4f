// Stop rules: end-of-generation tokens besides EOS, and stop strings found on the decoded text
// however the tokens split them.
#include <gtest/gtest.h>

#include "runtime/generator.h"

namespace llmpipe {
namespace {

TEST(StopRule, EndOfTurnTokensStopLikeEos) {
  const StopRule r{2, 10, 100, {7, 9}};
  EXPECT_TRUE(r.is_end(2));
  EXPECT_TRUE(r.is_end(7));
  EXPECT_TRUE(r.is_end(9));
  EXPECT_FALSE(r.is_end(8));
  EXPECT_EQ(r.check(9, 1, 5), FinishReason::Stop);
  EXPECT_EQ(r.check(8, 1, 5), std::nullopt);
  EXPECT_EQ(r.check(8, 10, 5), FinishReason::Length);
}

TEST(StopStrings, SplitAcrossPiecesCutsBeforeTheString) {
  StopStrings s({"STOP"});
  EXPECT_FALSE(s.append("abc S"));
  EXPECT_FALSE(s.append("T"));
  EXPECT_TRUE(s.append("OP and more"));
  EXPECT_EQ(s.text(), "abc ");
  EXPECT_TRUE(s.stopped());
  EXPECT_TRUE(s.append("ignored"));
  EXPECT_EQ(s.text(), "abc ");
}

TEST(StopStrings, EarliestOfSeveralWins) {
  StopStrings s({"world", "lo w"});
  EXPECT_TRUE(s.append("hello world"));
  EXPECT_EQ(s.text(), "hel");
}

TEST(StopStrings, SafeLengthHoldsBackAPossibleStart) {
  StopStrings s({"<end>"});
  s.append("text <e");
  EXPECT_EQ(s.safe_length(), 5u);  // "<e" may begin "<end>"
  s.append("x");
  EXPECT_EQ(s.safe_length(), s.text().size());  // "<ex" cannot
  StopStrings none;
  EXPECT_FALSE(none.append("anything"));
  EXPECT_EQ(none.safe_length(), 8u);
  StopStrings empty({""});  // an empty stop string would stop everything: ignored
  EXPECT_FALSE(empty.append("x"));
}

}  // namespace
}  // namespace llmpipe
