// Loads a TF.js graph model (model.json + weight shards) into a validated Model (model.h).
//
// Everything that can be wrong with a model is found here, at load, and reported as a
// Status naming the file and, where there is one, the node or weight:
//   malformed JSON, a missing or unreadable shard, shards shorter than the manifest says
//   (sizes are checked before anything is read), an unknown op, a missing or ill-typed
//   attribute, an unsupported dtype or quantization, a weight whose shape disagrees with
//   its consumer, an input that is not a constant where one is needed, a cycle.
// Weights: float32 as is; float16 / uint8 / uint16 quantized weights are dequantized to
// float32 (uint: q * scale + min); int32 constants stay int32. Shard paths are taken
// relative to the model.json folder and may not be absolute or contain "..".
//
// Threading: free functions, reentrant. They never throw and never abort.
//
// Example:
//   fg::nn::Result<fg::nn::Model> model = fg::nn::LoadModel(dir + "/facemesh.json");
//   if (!model.ok()) return fail(model.status().message());
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "engine/nn/model.h"
#include "engine/nn/status.h"

namespace fg::nn {

// Loads path (a model.json) and the shards named in its weightsManifest.
Result<Model> LoadModel(const std::string& path);

// The same from memory: `json` is the model.json text, `label` names it in errors (and is
// stored as Model::path), `shards` maps each manifest path to its bytes. Used by the fuzzer
// and by tests that build models in memory.
using ShardMap = std::map<std::string, std::string, std::less<>>;
Result<Model> LoadModelFromMemory(std::string_view json, std::string_view label,
                                  const ShardMap& shards);

}  // namespace fg::nn
