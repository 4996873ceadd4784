#include "engine/nn/ops/broadcast.h"

namespace fg::nn::ops {

bool MakeBroadcastArgs(const Shape& a, const Shape& b, const Shape& out, BroadcastArgs* args) {
  int rank = static_cast<int>(out.size());
  if (rank > kMaxRank || a.size() > out.size() || b.size() > out.size()) return false;
  *args = BroadcastArgs{};
  args->rank = rank;
  args->count = NumElements(out);
  args->same_shape = a == out && b == out;
  auto strides = [&](const Shape& s, std::array<int64_t, kMaxRank>* st) {
    int offset = rank - static_cast<int>(s.size());
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      int64_t dim = d < offset ? 1 : s[d - offset];
      if (dim != 1 && dim != out[d]) return false;
      (*st)[d] = dim == 1 ? 0 : stride;
      stride *= dim;
    }
    return true;
  };
  for (int d = 0; d < rank; ++d) args->out_dims[d] = out[d];
  return strides(a, &args->a_strides) && strides(b, &args->b_strides);
}

}  // namespace fg::nn::ops
