#include "origin_bridge/qmux/frames.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "origin_bridge/qmux/varint.h"

namespace moq_stats::qmux {
namespace {

// Appends to a scratch buffer and remembers whether any value was too large.
class Writer {
 public:
  void Varint(uint64_t value) {
    if (!AppendVarint(value, &buf_)) ok_ = false;
  }
  void Bytes(std::string_view bytes) {
    Varint(bytes.size());
    buf_.append(bytes);
  }
  void Raw(std::string_view bytes) { buf_.append(bytes); }
  bool ok() const { return ok_; }
  std::string& buf() { return buf_; }

 private:
  std::string buf_;
  bool ok_ = true;
};

struct Encoder {
  Writer* w;

  void operator()(const PaddingFrame&) { w->Varint(kPaddingFrameType); }
  void operator()(const StreamFrame& f) {
    const bool off = f.has_offset || f.offset != 0;
    w->Varint(kStreamFrameTypeBase | (off ? kStreamOffBit : 0) | (f.has_length ? kStreamLenBit : 0) |
              (f.fin ? kStreamFinBit : 0));
    w->Varint(f.stream_id);
    if (off) w->Varint(f.offset);
    if (f.has_length) w->Varint(f.data.size());
    w->Raw(f.data);
  }
  void operator()(const ResetStreamFrame& f) {
    w->Varint(kResetStreamFrameType);
    w->Varint(f.stream_id);
    w->Varint(f.error_code);
    w->Varint(f.final_size);
  }
  void operator()(const StopSendingFrame& f) {
    w->Varint(kStopSendingFrameType);
    w->Varint(f.stream_id);
    w->Varint(f.error_code);
  }
  void operator()(const MaxDataFrame& f) {
    w->Varint(kMaxDataFrameType);
    w->Varint(f.maximum_data);
  }
  void operator()(const MaxStreamDataFrame& f) {
    w->Varint(kMaxStreamDataFrameType);
    w->Varint(f.stream_id);
    w->Varint(f.maximum_stream_data);
  }
  void operator()(const MaxStreamsFrame& f) {
    w->Varint(f.unidirectional ? kMaxStreamsUniFrameType : kMaxStreamsBidiFrameType);
    w->Varint(f.maximum_streams);
  }
  void operator()(const DataBlockedFrame& f) {
    w->Varint(kDataBlockedFrameType);
    w->Varint(f.maximum_data);
  }
  void operator()(const StreamDataBlockedFrame& f) {
    w->Varint(kStreamDataBlockedFrameType);
    w->Varint(f.stream_id);
    w->Varint(f.maximum_stream_data);
  }
  void operator()(const StreamsBlockedFrame& f) {
    w->Varint(f.unidirectional ? kStreamsBlockedUniFrameType : kStreamsBlockedBidiFrameType);
    w->Varint(f.maximum_streams);
  }
  void operator()(const ConnectionCloseFrame& f) {
    w->Varint(kConnectionCloseFrameType);
    w->Varint(f.error_code);
    w->Varint(f.frame_type);
    w->Bytes(f.reason);
  }
  void operator()(const ApplicationCloseFrame& f) {
    w->Varint(kApplicationCloseFrameType);
    w->Varint(f.error_code);
    w->Bytes(f.reason);
  }
  void operator()(const TransportParametersFrame& f) {
    Writer payload;
    for (const TransportParameter& p : f.parameters) {
      payload.Varint(p.id);
      payload.Bytes(p.value);
    }
    if (!payload.ok()) w->Varint(kMaxVarint + 1);  // Marks the writer failed.
    w->Varint(kTransportParametersFrameType);
    w->Bytes(payload.buf());
  }
  void operator()(const PingFrame& f) {
    w->Varint(f.response ? kPingResponseFrameType : kPingRequestFrameType);
    w->Varint(f.sequence);
  }
};

struct TypeOf {
  uint64_t operator()(const PaddingFrame&) const { return kPaddingFrameType; }
  uint64_t operator()(const StreamFrame& f) const {
    return kStreamFrameTypeBase | ((f.has_offset || f.offset != 0) ? kStreamOffBit : 0) |
           (f.has_length ? kStreamLenBit : 0) | (f.fin ? kStreamFinBit : 0);
  }
  uint64_t operator()(const ResetStreamFrame&) const { return kResetStreamFrameType; }
  uint64_t operator()(const StopSendingFrame&) const { return kStopSendingFrameType; }
  uint64_t operator()(const MaxDataFrame&) const { return kMaxDataFrameType; }
  uint64_t operator()(const MaxStreamDataFrame&) const { return kMaxStreamDataFrameType; }
  uint64_t operator()(const MaxStreamsFrame& f) const {
    return f.unidirectional ? kMaxStreamsUniFrameType : kMaxStreamsBidiFrameType;
  }
  uint64_t operator()(const DataBlockedFrame&) const { return kDataBlockedFrameType; }
  uint64_t operator()(const StreamDataBlockedFrame&) const { return kStreamDataBlockedFrameType; }
  uint64_t operator()(const StreamsBlockedFrame& f) const {
    return f.unidirectional ? kStreamsBlockedUniFrameType : kStreamsBlockedBidiFrameType;
  }
  uint64_t operator()(const ConnectionCloseFrame&) const { return kConnectionCloseFrameType; }
  uint64_t operator()(const ApplicationCloseFrame&) const { return kApplicationCloseFrameType; }
  uint64_t operator()(const TransportParametersFrame&) const { return kTransportParametersFrameType; }
  uint64_t operator()(const PingFrame& f) const { return f.response ? kPingResponseFrameType : kPingRequestFrameType; }
};

// Reads fields from the front of a span; the first shortfall sticks.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  bool Varint(uint64_t* value) {
    if (short_) return false;
    const VarintRead read = ReadVarint(bytes_.substr(pos_));
    if (!read.complete) {
      short_ = true;
      return false;
    }
    *value = read.value;
    pos_ += read.length;
    return true;
  }
  // A varint length followed by that many bytes. Sets `oversized` when the
  // length runs past the end of the span.
  bool Bytes(std::string* out) {
    uint64_t length = 0;
    if (!Varint(&length)) return false;
    return Raw(length, out);
  }
  bool Raw(uint64_t length, std::string* out) {
    if (short_) return false;
    if (length > bytes_.size() - pos_) {
      short_ = true;
      oversized_ = true;
      return false;
    }
    out->assign(bytes_.data() + pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return true;
  }
  std::string_view Rest() {
    std::string_view rest = bytes_.substr(pos_);
    pos_ = bytes_.size();
    return rest;
  }

  bool is_short() const { return short_; }
  bool oversized() const { return oversized_; }
  size_t pos() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool short_ = false;
  bool oversized_ = false;
};

ParseResult ParseTransportParameters(std::string_view payload, TransportParametersFrame* out) {
  Reader r(payload);
  while (r.pos() < payload.size()) {
    TransportParameter p;
    if (!r.Varint(&p.id) || !r.Bytes(&p.value)) {
      return ParseResult::Error(kTransportParameterError, "truncated transport parameter");
    }
    out->parameters.push_back(std::move(p));
  }
  return ParseResult::Ok();
}

// One parser per frame type: each reads the fields after the type code from
// `r` and, on kOk, stores the frame in `*out`. kNeedMore asks for more bytes:
// `r` ran out (ParseFrame makes that an error when the record has ended), or
// a STREAM frame without a length waits for the end of its record. kError
// ends the parse.
using FieldsParser = ParseResult (*)(uint64_t type, Reader& r, bool end_of_record, Frame* out);

// The reader ran out before the frame's last field.
ParseResult Short() { return ParseResult::NeedMore(); }

ParseResult ParsePadding(uint64_t, Reader&, bool, Frame* out) {
  *out = PaddingFrame{};
  return ParseResult::Ok();
}

ParseResult ParseStream(uint64_t type, Reader& r, bool end_of_record, Frame* out) {
  StreamFrame f;
  f.fin = (type & kStreamFinBit) != 0;
  f.has_offset = (type & kStreamOffBit) != 0;
  f.has_length = (type & kStreamLenBit) != 0;
  if (!r.Varint(&f.stream_id) || (f.has_offset && !r.Varint(&f.offset))) return Short();
  if (f.has_length) {
    if (!r.Bytes(&f.data)) return Short();
  } else if (!end_of_record) {
    // The data runs to the end of the record, which is not known yet.
    return ParseResult::NeedMore();
  } else {
    f.data = std::string(r.Rest());
  }
  // RFC 9000 19.8: offset + length must not exceed 2^62-1.
  if (f.offset + f.data.size() > kMaxVarint) {
    return ParseResult::Error(kFrameEncodingError, "stream offset + length above 2^62-1");
  }
  *out = std::move(f);
  return ParseResult::Ok();
}

ParseResult ParseResetStream(uint64_t, Reader& r, bool, Frame* out) {
  ResetStreamFrame f;
  if (!r.Varint(&f.stream_id) || !r.Varint(&f.error_code) || !r.Varint(&f.final_size)) return Short();
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseStopSending(uint64_t, Reader& r, bool, Frame* out) {
  StopSendingFrame f;
  if (!r.Varint(&f.stream_id) || !r.Varint(&f.error_code)) return Short();
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseMaxData(uint64_t, Reader& r, bool, Frame* out) {
  MaxDataFrame f;
  if (!r.Varint(&f.maximum_data)) return Short();
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseMaxStreamData(uint64_t, Reader& r, bool, Frame* out) {
  MaxStreamDataFrame f;
  if (!r.Varint(&f.stream_id) || !r.Varint(&f.maximum_stream_data)) return Short();
  *out = f;
  return ParseResult::Ok();
}

// RFC 9000 19.11 and 19.14: a stream count above 2^60 is a
// FRAME_ENCODING_ERROR.
constexpr uint64_t kMaxStreamCount = uint64_t{1} << 60;

ParseResult ParseMaxStreams(uint64_t type, Reader& r, bool, Frame* out) {
  MaxStreamsFrame f;
  f.unidirectional = type == kMaxStreamsUniFrameType;
  if (!r.Varint(&f.maximum_streams)) return Short();
  if (f.maximum_streams > kMaxStreamCount) return ParseResult::Error(kFrameEncodingError, "MAX_STREAMS above 2^60");
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseDataBlocked(uint64_t, Reader& r, bool, Frame* out) {
  DataBlockedFrame f;
  if (!r.Varint(&f.maximum_data)) return Short();
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseStreamDataBlocked(uint64_t, Reader& r, bool, Frame* out) {
  StreamDataBlockedFrame f;
  if (!r.Varint(&f.stream_id) || !r.Varint(&f.maximum_stream_data)) return Short();
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseStreamsBlocked(uint64_t type, Reader& r, bool, Frame* out) {
  StreamsBlockedFrame f;
  f.unidirectional = type == kStreamsBlockedUniFrameType;
  if (!r.Varint(&f.maximum_streams)) return Short();
  if (f.maximum_streams > kMaxStreamCount) {
    return ParseResult::Error(kFrameEncodingError, "STREAMS_BLOCKED above 2^60");
  }
  *out = f;
  return ParseResult::Ok();
}

ParseResult ParseConnectionClose(uint64_t, Reader& r, bool, Frame* out) {
  ConnectionCloseFrame f;
  if (!r.Varint(&f.error_code) || !r.Varint(&f.frame_type) || !r.Bytes(&f.reason)) return Short();
  *out = std::move(f);
  return ParseResult::Ok();
}

ParseResult ParseApplicationClose(uint64_t, Reader& r, bool, Frame* out) {
  ApplicationCloseFrame f;
  if (!r.Varint(&f.error_code) || !r.Bytes(&f.reason)) return Short();
  *out = std::move(f);
  return ParseResult::Ok();
}

ParseResult ParseTransportParametersFrame(uint64_t, Reader& r, bool, Frame* out) {
  std::string payload;
  if (!r.Bytes(&payload)) return Short();
  TransportParametersFrame f;
  ParseResult result = ParseTransportParameters(payload, &f);
  if (!result.ok()) return result;
  *out = std::move(f);
  return ParseResult::Ok();
}

ParseResult ParsePing(uint64_t type, Reader& r, bool, Frame* out) {
  PingFrame f;
  f.response = type == kPingResponseFrameType;
  if (!r.Varint(&f.sequence)) return Short();
  *out = f;
  return ParseResult::Ok();
}

// The parser for frame type `type`; null for a type QMux does not have.
FieldsParser ParserFor(uint64_t type) {
  if (type >= kStreamFrameTypeBase && type <= (kStreamFrameTypeBase | 0x07)) return ParseStream;
  switch (type) {
    case kPaddingFrameType:
      return ParsePadding;
    case kResetStreamFrameType:
      return ParseResetStream;
    case kStopSendingFrameType:
      return ParseStopSending;
    case kMaxDataFrameType:
      return ParseMaxData;
    case kMaxStreamDataFrameType:
      return ParseMaxStreamData;
    case kMaxStreamsBidiFrameType:
    case kMaxStreamsUniFrameType:
      return ParseMaxStreams;
    case kDataBlockedFrameType:
      return ParseDataBlocked;
    case kStreamDataBlockedFrameType:
      return ParseStreamDataBlocked;
    case kStreamsBlockedBidiFrameType:
    case kStreamsBlockedUniFrameType:
      return ParseStreamsBlocked;
    case kConnectionCloseFrameType:
      return ParseConnectionClose;
    case kApplicationCloseFrameType:
      return ParseApplicationClose;
    case kTransportParametersFrameType:
      return ParseTransportParametersFrame;
    case kPingRequestFrameType:
    case kPingResponseFrameType:
      return ParsePing;
    default:
      return nullptr;
  }
}

}  // namespace

uint64_t FrameType(const Frame& frame) { return std::visit(TypeOf{}, frame); }

absl::Status AppendFrame(const Frame& frame, std::string* out) {
  Writer w;
  std::visit(Encoder{&w}, frame);
  if (!w.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("frame type ", FrameType(frame), " has a field above 2^62-1"));
  }
  out->append(w.buf());
  return absl::OkStatus();
}

ParseResult ParseFrame(std::string_view bytes, Frame* out, size_t* consumed, bool end_of_record) {
  Reader r(bytes);
  uint64_t type = 0;
  Frame frame;
  ParseResult result = Short();
  if (r.Varint(&type)) {
    FieldsParser parse = ParserFor(type);
    if (parse == nullptr) {
      return ParseResult::Error(kFrameEncodingError, absl::StrCat("unknown frame type 0x", absl::Hex(type)));
    }
    result = parse(type, r, end_of_record, &frame);
  }
  if (result.need_more() && end_of_record) {
    return ParseResult::Error(
        kFrameEncodingError,
        absl::StrCat(r.oversized() ? "length past the end of the record" : "frame truncated by the end of the record",
                     " (frame type 0x", absl::Hex(type), ")"));
  }
  if (!result.ok()) return result;
  *out = std::move(frame);
  *consumed = r.pos();
  return ParseResult::Ok();
}

}  // namespace moq_stats::qmux
