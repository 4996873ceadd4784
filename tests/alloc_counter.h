// Counts global operator new calls while a test asks for it: the "allocates nothing per
// frame / per run" tests (nn_alloc_test, draw_alloc_test, render_alloc_test). Linking
// tests/alloc_counter.cc into a test binary replaces the global allocation functions of that
// whole binary, so such a test gets its own executable.
//
// Threading: the counter is atomic; counting is global (any thread's allocations count).
//
// Example:
//   fg::testing::AllocationCount count;      // counting from here...
//   plan.Run();
//   EXPECT_EQ(count.Stop(), 0);              // ...to here
#pragma once

namespace fg::testing {

class AllocationCount {
 public:
  AllocationCount();   // resets the global count and starts counting
  ~AllocationCount();  // stops counting (if Stop was not called)
  long Stop();         // stops counting; returns the allocations since construction
  AllocationCount(const AllocationCount&) = delete;
  AllocationCount& operator=(const AllocationCount&) = delete;
};

}  // namespace fg::testing
