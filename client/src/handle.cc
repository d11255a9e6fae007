#include "client/src/handle.h"

namespace moq_stats {
namespace internal {

HandleValues Handle::Load() const { return {slots[0].Load(), slots[1].Load()}; }

RoleSlot* SlotOf(const std::shared_ptr<Handle>& handle, Role role) {
  return handle ? &handle->slots[static_cast<size_t>(role)] : nullptr;
}

uint64_t PathBytesOf(const std::shared_ptr<Handle>& handle) { return handle ? handle->path.size() : 0; }

}  // namespace internal
}  // namespace moq_stats
