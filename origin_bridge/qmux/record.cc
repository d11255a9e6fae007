#include "origin_bridge/qmux/record.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "origin_bridge/qmux/varint.h"

namespace moq_stats::qmux {
namespace {

ParseResult Fail(RecordVisitor* visitor, ParseResult result) {
  visitor->OnParsingError(result.error_code, result.reason);
  return result;
}

// Encodes a STREAM frame as pieces no larger than `limit` bytes each.
absl::Status SplitStream(StreamFrame frame, uint64_t limit, std::vector<std::string>* pieces) {
  frame.has_length = true;
  std::string whole;
  if (absl::Status s = AppendFrame(frame, &whole); !s.ok()) return s;
  if (whole.size() <= limit) {
    pieces->push_back(std::move(whole));
    return absl::OkStatus();
  }
  if (frame.data.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("max_record_size ", limit, " too small for a STREAM frame"));
  }
  const std::string data = std::move(frame.data);
  const bool fin = frame.fin;
  size_t sent = 0;
  while (sent < data.size()) {
    StreamFrame piece;
    piece.stream_id = frame.stream_id;
    piece.offset = frame.offset + sent;
    piece.has_offset = true;
    piece.has_length = true;
    // Header: type, id, offset, and a length no longer than the limit's.
    const uint64_t header = 1 + VarintLength(piece.stream_id) + VarintLength(piece.offset) + VarintLength(limit);
    if (header >= limit) {
      return absl::InvalidArgumentError(absl::StrCat("max_record_size ", limit, " too small for a STREAM frame"));
    }
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(limit - header, data.size() - sent));
    piece.data = data.substr(sent, chunk);
    sent += chunk;
    piece.fin = fin && sent == data.size();
    std::string bytes;
    if (absl::Status s = AppendFrame(piece, &bytes); !s.ok()) return s;
    pieces->push_back(std::move(bytes));
  }
  return absl::OkStatus();
}

}  // namespace

ParseResult ParseRecord(std::string_view record, uint64_t max_record_size, RecordVisitor* visitor) {
  if (record.size() > max_record_size) {
    return Fail(visitor, ParseResult::Error(kProtocolViolation,
                                            absl::StrCat("record of ", record.size(), " bytes exceeds max_record_size ",
                                                         max_record_size)));
  }
  while (!record.empty()) {
    Frame frame;
    size_t consumed = 0;
    ParseResult result = ParseFrame(record, &frame, &consumed, /*end_of_record=*/true);
    if (!result.ok()) return Fail(visitor, std::move(result));
    record.remove_prefix(consumed);
    if (std::holds_alternative<PaddingFrame>(frame)) continue;
    visitor->OnFrame(std::move(frame));
  }
  return ParseResult::Ok();
}

ParseResult ReadTcpRecord(std::string_view bytes, uint64_t max_record_size, std::string_view* record,
                          size_t* consumed) {
  const VarintRead size = ReadVarint(bytes);
  if (!size.complete) return ParseResult::NeedMore();
  if (size.value > max_record_size) {
    return ParseResult::Error(
        kProtocolViolation, absl::StrCat("record of ", size.value, " bytes exceeds max_record_size ", max_record_size));
  }
  if (bytes.size() - size.length < size.value) return ParseResult::NeedMore();
  *record = bytes.substr(size.length, static_cast<size_t>(size.value));
  *consumed = size.length + static_cast<size_t>(size.value);
  return ParseResult::Ok();
}

absl::Status BuildRecords(RecordMode mode, const std::vector<Frame>& frames, uint64_t peer_max_record_size,
                          std::vector<std::string>* out) {
  std::vector<std::string> pieces;
  for (const Frame& frame : frames) {
    if (const auto* stream = std::get_if<StreamFrame>(&frame)) {
      if (absl::Status s = SplitStream(*stream, peer_max_record_size, &pieces); !s.ok()) return s;
      continue;
    }
    std::string bytes;
    if (absl::Status s = AppendFrame(frame, &bytes); !s.ok()) return s;
    if (bytes.size() > peer_max_record_size) {
      return absl::InvalidArgumentError(absl::StrCat("frame type 0x", absl::Hex(FrameType(frame)), " of ", bytes.size(),
                                                     " bytes exceeds max_record_size ", peer_max_record_size));
    }
    pieces.push_back(std::move(bytes));
  }
  std::vector<std::string> records;
  std::string current;
  for (std::string& piece : pieces) {
    if (!current.empty() && current.size() + piece.size() > peer_max_record_size) {
      records.push_back(std::move(current));
      current.clear();
    }
    current.append(piece);
  }
  if (!current.empty()) records.push_back(std::move(current));
  for (std::string& record : records) {
    if (mode == RecordMode::kTcp) {
      std::string framed;
      AppendVarint(record.size(), &framed);
      framed.append(record);
      out->push_back(std::move(framed));
    } else {
      out->push_back(std::move(record));
    }
  }
  return absl::OkStatus();
}

TransportParameters LocalTransportParameters(RecordMode mode, std::vector<std::string> alpns) {
  return DefaultTransportParameters(mode == RecordMode::kTcp ? std::move(alpns) : std::vector<std::string>{});
}

}  // namespace moq_stats::qmux
