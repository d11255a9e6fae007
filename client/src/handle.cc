#include "client/src/handle.h"

namespace moq_stats {
namespace internal {

HandleValues Handle::Load() const {
  HandleValues v;
  for (size_t r = 0; r < 2; ++r) {
    const RoleSlot& s = slots[r];
    v[r].broadcasts_closed = s.broadcasts_closed.load(std::memory_order_acquire);
    v[r].subscriptions_closed = s.subscriptions_closed.load(std::memory_order_acquire);
    v[r].broadcasts = s.broadcasts.load(std::memory_order_relaxed);
    v[r].subscriptions = s.subscriptions.load(std::memory_order_relaxed);
    v[r].bytes = s.bytes.load(std::memory_order_relaxed);
    v[r].frames = s.frames.load(std::memory_order_relaxed);
    v[r].groups = s.groups.load(std::memory_order_relaxed);
  }
  return v;
}

RoleSlot* SlotOf(const std::shared_ptr<Handle>& handle, Role role) {
  return handle ? &handle->slots[static_cast<size_t>(role)] : nullptr;
}

}  // namespace internal
}  // namespace moq_stats
