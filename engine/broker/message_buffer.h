// MessageBuffer: the bounded FIFO where broker messages wait while the broker is unreachable
// (or slower than the stream). When it is full, the policy decides which message is lost:
//
//   kDropOldest  the oldest waiting message is dropped to make room (the consumer gets the
//                newest data after an outage: live dashboards)
//   kDropNewest  the incoming message is dropped (the consumer gets the start of the outage
//                complete: logs that are read in order)
//
// Every drop is counted; offered == popped + dropped + size() at all times.
//
// Threading: thread-compatible (not synchronised): the owner (fg::MqttPublisher) guards it
// with its lock. All operations are O(1) apart from the string moves.
//
//   fg::MessageBuffer buf(2, fg::DropPolicy::kDropOldest);
//   buf.Push({"t", "1"}); buf.Push({"t", "2"}); buf.Push({"t", "3"});  // "1" dropped
//   buf.Pop()->payload == "2"; buf.dropped() == 1
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace fg {

enum class DropPolicy { kDropOldest, kDropNewest };

// "drop-oldest" / "drop-newest" (the element's property nicks); nullopt for anything else.
std::optional<DropPolicy> ParseDropPolicy(std::string_view name);
const char* DropPolicyName(DropPolicy policy);

struct OutMessage {
  std::string topic;
  std::string payload;
  bool retain = false;
};

class MessageBuffer {
 public:
  // capacity >= 1 (0 is taken as 1: a buffer that can hold nothing could never send).
  MessageBuffer(size_t capacity, DropPolicy policy)
      : capacity_(capacity == 0 ? 1 : capacity), policy_(policy) {}

  // Stores `message`; when full, drops by the policy. Returns false when a message (the
  // oldest or this one) was dropped.
  bool Push(OutMessage message) {
    ++offered_;
    if (queue_.size() >= capacity_) {
      ++dropped_;
      if (policy_ == DropPolicy::kDropNewest) return false;
      queue_.pop_front();
      queue_.push_back(std::move(message));
      return false;
    }
    queue_.push_back(std::move(message));
    return true;
  }
  // Puts a message that was popped but could not be handed on back at the front (it keeps
  // its place in the order; it is not counted as offered again). May exceed the capacity by
  // one until the next Pop.
  void PushFront(OutMessage message) { queue_.push_front(std::move(message)); }

  std::optional<OutMessage> Pop() {
    if (queue_.empty()) return std::nullopt;
    OutMessage m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }

  size_t size() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }
  size_t capacity() const { return capacity_; }
  DropPolicy policy() const { return policy_; }
  uint64_t offered() const { return offered_; }
  uint64_t dropped() const { return dropped_; }

 private:
  size_t capacity_;
  DropPolicy policy_;
  std::deque<OutMessage> queue_;
  uint64_t offered_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace fg
