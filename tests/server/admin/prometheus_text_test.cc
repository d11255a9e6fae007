#include "server/admin/prometheus_text.h"

#include <cstdlib>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace moq_stats::server {
namespace {

// The text of a single unlabelled gauge sample, without HELP and TYPE.
std::string GaugeValue(double value) {
  PrometheusText text;
  text.Gauge("g", "h", value);
  std::string out = text.Take();
  const std::string prefix = "# HELP g h\n# TYPE g gauge\ng ";
  EXPECT_EQ(out.substr(0, prefix.size()), prefix);
  EXPECT_EQ(out.back(), '\n');
  return out.substr(prefix.size(), out.size() - prefix.size() - 1);
}

TEST(PrometheusTextTest, Counter) {
  PrometheusText text;
  text.Counter("moq_stats_batches_total", "Batches accepted.", 3);
  EXPECT_EQ(text.Take(),
            "# HELP moq_stats_batches_total Batches accepted.\n"
            "# TYPE moq_stats_batches_total counter\n"
            "moq_stats_batches_total 3\n");
}

TEST(PrometheusTextTest, Gauge) {
  PrometheusText text;
  text.Gauge("moq_stats_levels", "Levels held.", 12);
  EXPECT_EQ(text.Take(),
            "# HELP moq_stats_levels Levels held.\n"
            "# TYPE moq_stats_levels gauge\n"
            "moq_stats_levels 12\n");
}

TEST(PrometheusTextTest, FamilyWithLabelledSamplesHasOneHelpAndType) {
  PrometheusText text;
  text.Counter("moq_stats_batches_rejected_total", "Batches refused.", 3, {{"reason", "sequence"}});
  text.Counter("moq_stats_batches_rejected_total", "Batches refused.", 1, {{"reason", "size"}});
  text.Counter("moq_stats_batches_rejected_total", "Batches refused.", 0, {{"reason", "auth"}, {"tier", "edge"}});
  text.Gauge("moq_stats_levels", "Levels held.", 2, {{"tier", "edge"}});
  text.Gauge("moq_stats_levels", "Levels held.", 5, {{"tier", "origin"}});
  EXPECT_EQ(text.Take(),
            "# HELP moq_stats_batches_rejected_total Batches refused.\n"
            "# TYPE moq_stats_batches_rejected_total counter\n"
            "moq_stats_batches_rejected_total{reason=\"sequence\"} 3\n"
            "moq_stats_batches_rejected_total{reason=\"size\"} 1\n"
            "moq_stats_batches_rejected_total{reason=\"auth\",tier=\"edge\"} 0\n"
            "# HELP moq_stats_levels Levels held.\n"
            "# TYPE moq_stats_levels gauge\n"
            "moq_stats_levels{tier=\"edge\"} 2\n"
            "moq_stats_levels{tier=\"origin\"} 5\n");
}

TEST(PrometheusTextTest, EscapesLabelValues) {
  PrometheusText text;
  text.Gauge("g", "h", 1, {{"path", "a\\b\"c\nd"}, {"plain", "x'y{z}=,"}});
  EXPECT_EQ(text.Take(),
            "# HELP g h\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\\b\\\"c\\nd\",plain=\"x'y{z}=,\"} 1\n");
}

TEST(PrometheusTextTest, EscapesHelpBackslashAndNewlineOnly) {
  PrometheusText text;
  text.Counter("c_total", "Back\\slash, \"quoted\",\nsecond line.", 1);
  EXPECT_EQ(text.Take(),
            "# HELP c_total Back\\\\slash, \"quoted\",\\nsecond line.\n"
            "# TYPE c_total counter\n"
            "c_total 1\n");
}

TEST(PrometheusTextTest, IntegersWithoutExponentOrDecimalPoint) {
  EXPECT_EQ(GaugeValue(0), "0");
  EXPECT_EQ(GaugeValue(-0.0), "0");
  EXPECT_EQ(GaugeValue(7), "7");
  EXPECT_EQ(GaugeValue(-42), "-42");
  EXPECT_EQ(GaugeValue(1e15), "1000000000000000");
  EXPECT_EQ(GaugeValue(9007199254740991.0), "9007199254740991");    // 2^53 - 1
  EXPECT_EQ(GaugeValue(-9007199254740991.0), "-9007199254740991");  // -(2^53 - 1)
}

TEST(PrometheusTextTest, NonIntegersRoundTrip) {
  EXPECT_EQ(GaugeValue(0.5), "0.5");
  EXPECT_EQ(GaugeValue(-2.25), "-2.25");
  EXPECT_EQ(GaugeValue(0.1), "0.1");
  for (double value :
       {0.1, 1.0 / 3, 2.0 / 3 * 1e-300, 1e300, 123456.789, 9007199254740993.0 * 4, std::numeric_limits<double>::min(),
        std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()}) {
    const std::string written = GaugeValue(value);
    EXPECT_EQ(std::strtod(written.c_str(), nullptr), value) << written;
    EXPECT_EQ(written.find(' '), std::string::npos) << written;
  }
}

TEST(PrometheusTextTest, InfinityAndNaN) {
  EXPECT_EQ(GaugeValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(GaugeValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(GaugeValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(GaugeValue(-std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PrometheusTextTest, TakeClears) {
  PrometheusText text;
  text.Counter("c_total", "Help.", 1);
  EXPECT_FALSE(text.Take().empty());
  EXPECT_EQ(text.Take(), "");
  // A new scrape starts the family again, with its HELP and TYPE.
  text.Counter("c_total", "Help.", 2);
  EXPECT_EQ(text.Take(),
            "# HELP c_total Help.\n"
            "# TYPE c_total counter\n"
            "c_total 2\n");
}

TEST(PrometheusTextTest, ContentType) {
  EXPECT_STREQ(PrometheusText::kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace moq_stats::server
