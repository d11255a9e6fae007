#include "origin_bridge/transport/subprotocol.h"

#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace moq_stats::bridge {
namespace {

using ::testing::ElementsAre;

TEST(SubprotocolTest, OffersEveryVersionWithQmux01ThenQmux00) {
  EXPECT_THAT(OfferedVersions(), ElementsAre(lite::Version::kLite05, lite::Version::kLite04, lite::Version::kLite03));
  EXPECT_THAT(OfferedSubprotocols(), ElementsAre("qmux-01.moq-lite-05", "qmux-00.moq-lite-05", "qmux-01.moq-lite-04",
                                                 "qmux-00.moq-lite-04", "qmux-01.moq-lite-03", "qmux-00.moq-lite-03"));
}

TEST(SubprotocolTest, JoinsWithCommaSpace) {
  EXPECT_EQ(JoinSubprotocols({"a", "b", "c"}), "a, b, c");
  EXPECT_EQ(JoinSubprotocols({"a"}), "a");
  EXPECT_EQ(JoinSubprotocols({}), "");
}

TEST(SubprotocolTest, SplitsTrimsAndDropsEmpty) {
  EXPECT_THAT(SplitSubprotocols("a, b,,\tc , "), ElementsAre("a", "b", "c"));
  EXPECT_THAT(SplitSubprotocols("qmux-01.moq-lite-05"), ElementsAre("qmux-01.moq-lite-05"));
  EXPECT_TRUE(SplitSubprotocols("").empty());
  EXPECT_TRUE(SplitSubprotocols(" , ,").empty());
}

TEST(SubprotocolTest, ParsesOurNames) {
  auto n = ParseSubprotocol("qmux-01.moq-lite-05");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->version, lite::Version::kLite05);
  EXPECT_TRUE(n->qmux_records);
  EXPECT_EQ(n->subprotocol, "qmux-01.moq-lite-05");

  n = ParseSubprotocol("qmux-00.moq-lite-03");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->version, lite::Version::kLite03);
  EXPECT_FALSE(n->qmux_records);
  EXPECT_EQ(n->subprotocol, "qmux-00.moq-lite-03");

  n = ParseSubprotocol("qmux-00.moq-lite-04");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->version, lite::Version::kLite04);
}

TEST(SubprotocolTest, RefusesNamesWeDoNotSpeak) {
  for (std::string_view name : {"", "qmux-01", "qmux-00", "webtransport", "qmux-02.moq-lite-05", "QMUX-01.moq-lite-05",
                                "qmux-01.moq-lite-06-wip", "qmux-01.moql", "qmux-01.", "qmux-01.moq-lite-05 ",
                                "webtransport.moq-lite-05", "moq-lite-05", "qmux-01.moqt-17"}) {
    EXPECT_FALSE(ParseSubprotocol(name).has_value()) << name;
  }
}

TEST(SubprotocolTest, SelectionFollowsOurPreferenceNotTheClientsOrder) {
  auto n = SelectSubprotocol({"qmux-00.moq-lite-05", "qmux-01.moq-lite-04", "qmux-01.moq-lite-05"});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->subprotocol, "qmux-01.moq-lite-05");

  // The moq-lite version outranks the QMux draft, as in qmux::ws::Server.
  n = SelectSubprotocol({"qmux-01.moq-lite-03", "qmux-00.moq-lite-04"});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->subprotocol, "qmux-00.moq-lite-04");
  EXPECT_FALSE(n->qmux_records);
}

TEST(SubprotocolTest, SelectsFromWhatMoqNativeAndMoqJsOffer) {
  // qmux::ws::Client with every draft, then the bare names.
  std::vector<std::string_view> offered = {"qmux-02.moq-lite-05",
                                           "qmux-01.moq-lite-05",
                                           "qmux-00.moq-lite-05",
                                           "qmux-02.moq-lite-04",
                                           "qmux-01.moq-lite-04",
                                           "qmux-00.moq-lite-04",
                                           "qmux-02.moql",
                                           "qmux-01.moql",
                                           "qmux-00.moql",
                                           "qmux-02",
                                           "qmux-01",
                                           "qmux-00",
                                           "webtransport"};
  auto n = SelectSubprotocol(offered);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->subprotocol, "qmux-01.moq-lite-05");
}

TEST(SubprotocolTest, SelectsQmux00OnlyClients) {
  auto n = SelectSubprotocol({"qmux-00.moq-lite-04"});
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->version, lite::Version::kLite04);
  EXPECT_FALSE(n->qmux_records);
}

TEST(SubprotocolTest, SelectsNothingWithoutACommonName) {
  EXPECT_FALSE(SelectSubprotocol({}).has_value());
  EXPECT_FALSE(SelectSubprotocol({"qmux-01", "qmux-00", "webtransport"}).has_value());
  EXPECT_FALSE(SelectSubprotocol({"qmux-02.moq-lite-05", "qmux-01.moqt-17"}).has_value());
}

}  // namespace
}  // namespace moq_stats::bridge
