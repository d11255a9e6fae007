#include "server/admin/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>

namespace moq_stats::server {
namespace {

// Integral values below this magnitude are exact in a double and are written
// as integers.
constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53

// HELP text: backslash and newline are escaped.
void AppendEscapedHelp(const std::string& help, std::string* out) {
  for (char c : help) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      default:
        *out += c;
    }
  }
}

// Label values: backslash, double quote and newline are escaped.
void AppendEscapedLabelValue(const std::string& value, std::string* out) {
  for (char c : value) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '"':
        *out += "\\\"";
        break;
      case '\n':
        *out += "\\n";
        break;
      default:
        *out += c;
    }
  }
}

// Integers below 2^53 exactly and without exponent; other finite values in
// the shortest form that reads back as the same double (std::to_chars is
// locale-independent, unlike printf); the infinities and NaN as Prometheus
// spells them.
void AppendValue(double value, std::string* out) {
  if (std::isnan(value)) {
    *out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    *out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  std::to_chars_result result;
  if (std::fabs(value) < kExactIntegerLimit && value == std::trunc(value)) {
    result = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(value));
  } else {
    result = std::to_chars(buf, buf + sizeof(buf), value);
  }
  // 64 bytes hold any double or int64; an error here would be our bug.
  if (result.ec != std::errc()) {
    *out += "NaN";
    return;
  }
  out->append(buf, result.ptr);
}

}  // namespace

void PrometheusText::Counter(const std::string& name, const std::string& help, double value, const Labels& labels) {
  Sample(name, help, "counter", value, labels);
}

void PrometheusText::Gauge(const std::string& name, const std::string& help, double value, const Labels& labels) {
  Sample(name, help, "gauge", value, labels);
}

std::string PrometheusText::Take() {
  std::string text = std::move(out_);
  out_.clear();
  family_.clear();
  return text;
}

void PrometheusText::Sample(const std::string& name, const std::string& help, const char* type, double value,
                            const Labels& labels) {
  if (out_.empty() || name != family_) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    AppendEscapedHelp(help, &out_);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
    family_ = name;
  }
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += label;
      out_ += "=\"";
      AppendEscapedLabelValue(label_value, &out_);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  AppendValue(value, &out_);
  out_ += '\n';
}

}  // namespace moq_stats::server
