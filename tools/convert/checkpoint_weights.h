// The weights of a Hugging Face checkpoint folder: `model.safetensors`, or the shards listed by
// `model.safetensors.index.json` ("weight_map": tensor name -> shard file name). Every shard is
// memory-mapped and validated when opened; lookups name the tensor and the files searched.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "convert/safetensors.h"

namespace bitnet::convert {

class CheckpointWeights {
public:
    // Throws Error naming the missing file or the invalid index/shard.
    static CheckpointWeights open(const std::string &folder);

    // nullptr when the checkpoint has no tensor of that name.
    const SafeTensor *find(const std::string &name) const;
    // Throws BITNET_ERR_INVALID_MODEL "<source>: tensor 'name' is missing".
    const SafeTensor &require(const std::string &name) const;
    const std::string &source() const { return source_; }  // model.safetensors or the index path
    std::vector<std::string> names() const;

private:
    std::string source_;
    std::vector<std::unique_ptr<SafetensorsFile>> shards_;
};

}  // namespace bitnet::convert
