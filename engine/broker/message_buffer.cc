#include "engine/broker/message_buffer.h"

namespace fg {

std::optional<DropPolicy> ParseDropPolicy(std::string_view name) {
  if (name == "drop-oldest") return DropPolicy::kDropOldest;
  if (name == "drop-newest") return DropPolicy::kDropNewest;
  return std::nullopt;
}

const char* DropPolicyName(DropPolicy policy) {
  return policy == DropPolicy::kDropOldest ? "drop-oldest" : "drop-newest";
}

}  // namespace fg
