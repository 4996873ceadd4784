#include "engine/nn/memory_plan.h"

#include <algorithm>
#include <numeric>

namespace fg::nn {

std::vector<int64_t> PlanBuffers(std::span<const BufferRequest> requests, int64_t alignment,
                                 int64_t* arena_size) {
  if (alignment < 1) alignment = 1;
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].size > requests[b].size; });
  std::vector<int64_t> offsets(requests.size(), -1);
  std::vector<size_t> placed;  // indices into requests, sorted by offset
  int64_t total = 0;
  auto round_up = [&](int64_t v) { return (v + alignment - 1) / alignment * alignment; };
  for (size_t r : order) {
    const BufferRequest& req = requests[r];
    int64_t candidate = 0;
    for (size_t p : placed) {
      const BufferRequest& other = requests[p];
      bool overlap_in_time = !(other.last_use < req.first_use || req.last_use < other.first_use);
      if (!overlap_in_time) continue;
      int64_t o_begin = offsets[p], o_end = offsets[p] + other.size;
      if (candidate + req.size <= o_begin) break;  // fits in the gap before this one
      candidate = std::max(candidate, round_up(o_end));
    }
    offsets[r] = candidate;
    total = std::max(total, candidate + req.size);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), r,
                                   [&](size_t a, size_t b) { return offsets[a] < offsets[b]; }),
                  r);
  }
  *arena_size = round_up(total);
  return offsets;
}

ActivationPlan PlanActivations(const Model& model, std::span<const Shape> shapes,
                               int64_t alignment) {
  ActivationPlan plan;
  plan.offsets.assign(model.tensors.size(), -1);
  const int steps = static_cast<int>(model.nodes.size());
  std::vector<int> producer(model.tensors.size(), -1), last(model.tensors.size(), -1);
  for (int i = 0; i < steps; ++i) {
    const Node& n = model.nodes[i];
    producer[n.output] = i;
    last[n.output] = std::max(last[n.output], i);
    for (int t : n.inputs) last[t] = std::max(last[t], i);
  }
  for (const IoSpec& io : model.outputs) last[io.tensor] = steps;  // read after the last step
  std::vector<BufferRequest> requests;
  std::vector<int> tensor_of;
  for (size_t t = 0; t < model.tensors.size(); ++t) {
    if (producer[t] < 0) continue;
    requests.push_back({NumElements(shapes[t]), producer[t], last[t]});
    tensor_of.push_back(static_cast<int>(t));
  }
  std::vector<int64_t> offsets = PlanBuffers(requests, alignment, &plan.arena_elements);
  for (size_t r = 0; r < requests.size(); ++r) plan.offsets[tensor_of[r]] = offsets[r];
  return plan;
}

}  // namespace fg::nn
