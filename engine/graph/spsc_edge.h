// SpscEdge: the single-producer / single-consumer queue that joins two graph nodes, with an
// explicit backpressure policy. Built on boost::lockfree::spsc_queue; blocking waits use
// C++20 atomic wait/notify (futex), so an idle edge costs no CPU.
//
// Threading: exactly one producer thread calls Push/Close, exactly one consumer thread calls
// Pop/TryPop/DiscardRemaining. Cancel() and Counters() may be called from any thread.
// Lifetime: both threads must have stopped using the edge before it is destroyed.
//
// Policies (MediaPipe's FlowLimiter and GStreamer's leaky queues are the models):
//   kBlock       no loss; Push waits while `capacity` items are queued (full after
//                `capacity` items, empty at 0).
//   kDropOldest  Push never waits. The consumer, when it pops, first discards the oldest
//                items until at most `capacity` wait, so it always works on the newest
//                `capacity` items. The ring has `headroom` extra slots for bursts while the
//                consumer is busy; if even those are full (a consumer stalled for longer than
//                capacity+headroom pushes) the incoming item is refused instead and counted
//                as `overflow`. Every discarded item is counted.
//   kKeepLatest  kDropOldest with capacity 1: the consumer always takes the newest item.
//
// Invariant after the consumer has drained a closed edge: pushed == delivered + dropped.
//
// Example:
//   fg::SpscEdge<Frame> e(4, fg::Backpressure::kBlock);
//   producer: e.Push(f); ... e.Close();
//   consumer: while (auto f = e.Pop()) use(*f);   // nullopt once closed and drained
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/lockfree/spsc_queue.hpp>

namespace fg {

enum class Backpressure { kBlock, kDropOldest, kKeepLatest };

std::string_view BackpressureName(Backpressure p);

struct EdgeCounters {
  uint64_t pushed = 0;     // items offered by the producer
  uint64_t delivered = 0;  // items handed to the consumer
  uint64_t dropped = 0;    // discarded by the policy (includes overflow and cancel)
  uint64_t overflow = 0;   // of `dropped`: refused by Push because the ring was full
};

template <class T>
class SpscEdge {
 public:
  SpscEdge(size_t capacity, Backpressure policy, size_t headroom = 16)
      : policy_(policy),
        capacity_(policy == Backpressure::kKeepLatest ? 1 : (capacity == 0 ? 1 : capacity)),
        queue_(policy == Backpressure::kBlock ? capacity_ : capacity_ + headroom) {}

  SpscEdge(const SpscEdge&) = delete;
  SpscEdge& operator=(const SpscEdge&) = delete;

  // Producer thread. Returns false when the consumer cancelled the edge (the item is counted
  // as dropped). In kBlock it waits for room; in the drop modes it never waits.
  bool Push(const T& item) {
    pushed_.store(pushed_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    for (;;) {
      if (cancelled_.load(std::memory_order_acquire)) {
        producer_dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      // Read before trying, so a pop that lands between the failed push and the wait wakes us.
      const uint32_t seen = pop_seq_.load(std::memory_order_acquire);
      if (queue_.push(item)) {
        push_seq_.fetch_add(1, std::memory_order_release);
        push_seq_.notify_one();
        return true;
      }
      if (policy_ != Backpressure::kBlock) {
        producer_dropped_.fetch_add(1, std::memory_order_relaxed);
        overflow_.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
      pop_seq_.wait(seen, std::memory_order_acquire);
    }
  }

  // Producer thread: no more items. The consumer drains what is queued, then Pop returns
  // nullopt.
  void Close() {
    closed_.store(true, std::memory_order_release);
    push_seq_.fetch_add(1, std::memory_order_release);
    push_seq_.notify_one();
  }

  // Consumer thread: the next item under the policy, or nullopt when the queue is empty.
  std::optional<T> TryPop() {
    if (policy_ != Backpressure::kBlock) {
      // Discard the oldest beyond `capacity_`; read_available() only grows under us (the
      // producer only adds), so this never discards an item we then fail to replace.
      size_t waiting = queue_.read_available();
      while (waiting > capacity_) {
        queue_.consume_one([](T&) {});
        consumer_dropped_.fetch_add(1, std::memory_order_relaxed);
        --waiting;
      }
    }
    std::optional<T> out;
    if (!queue_.consume_one([&out](T& v) { out.emplace(std::move(v)); })) return std::nullopt;
    delivered_.store(delivered_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    pop_seq_.fetch_add(1, std::memory_order_release);
    pop_seq_.notify_one();
    return out;
  }

  // Consumer thread: waits for the next item; nullopt once the edge is closed and drained.
  std::optional<T> Pop() {
    for (;;) {
      const uint32_t seen = push_seq_.load(std::memory_order_acquire);
      if (cancelled_.load(std::memory_order_acquire)) return std::nullopt;
      if (auto v = TryPop()) return v;
      if (closed_.load(std::memory_order_acquire)) {
        // Close() happens after the producer's last push: one more look settles the race.
        if (auto v = TryPop()) return v;
        return std::nullopt;
      }
      push_seq_.wait(seen, std::memory_order_acquire);
    }
  }

  // Any thread: stop the edge. A producer blocked in Push wakes and gets false, a consumer
  // blocked in Pop wakes and gets nullopt; later pushes are refused and counted as dropped.
  // Items still queued stay there until DiscardRemaining().
  void Cancel() {
    cancelled_.store(true, std::memory_order_release);
    pop_seq_.fetch_add(1, std::memory_order_release);
    pop_seq_.notify_all();
    push_seq_.fetch_add(1, std::memory_order_release);
    push_seq_.notify_all();
  }

  // Consumer thread, or any thread once both sides have stopped: discards what is queued,
  // counting it as dropped. Returns how many items were discarded.
  uint64_t DiscardRemaining() {
    uint64_t n = 0;
    while (queue_.consume_one([](T&) {})) ++n;
    consumer_dropped_.fetch_add(n, std::memory_order_relaxed);
    return n;
  }

  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Consumer thread: true once closed and nothing is left.
  bool Drained() const {
    return closed_.load(std::memory_order_acquire) && queue_.read_available() == 0;
  }

  bool closed() const { return closed_.load(std::memory_order_acquire); }
  Backpressure policy() const { return policy_; }
  size_t capacity() const { return capacity_; }

  // Any thread; exact once both sides are idle.
  EdgeCounters Counters() const {
    EdgeCounters c;
    c.pushed = pushed_.load(std::memory_order_relaxed);
    c.delivered = delivered_.load(std::memory_order_relaxed);
    c.overflow = overflow_.load(std::memory_order_relaxed);
    c.dropped = producer_dropped_.load(std::memory_order_relaxed) +
                consumer_dropped_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  const Backpressure policy_;
  const size_t capacity_;
  boost::lockfree::spsc_queue<T> queue_;  // allocated once, here; never after

  // Written only by the producer thread (relaxed: read for statistics only).
  alignas(64) std::atomic<uint64_t> pushed_{0};
  std::atomic<uint64_t> producer_dropped_{0};
  std::atomic<uint64_t> overflow_{0};
  std::atomic<uint32_t> push_seq_{0};  // bumped on push, close and cancel; the consumer waits on it
  std::atomic<bool> closed_{false};

  // Written only by the consumer thread; on its own cache line, away from the producer's.
  alignas(64) std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> consumer_dropped_{0};
  std::atomic<uint32_t> pop_seq_{0};  // bumped on pop and on cancel; a blocked producer waits on it
  std::atomic<bool> cancelled_{false};
};

inline std::string_view BackpressureName(Backpressure p) {
  switch (p) {
    case Backpressure::kBlock: return "block";
    case Backpressure::kDropOldest: return "drop-oldest";
    case Backpressure::kKeepLatest: return "keep-latest";
  }
  return "unknown";
}

}  // namespace fg
