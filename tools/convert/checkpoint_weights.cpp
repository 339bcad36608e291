#include "convert/checkpoint_weights.h"

#include <map>

#include "convert/json_file.h"
#include "util/error.h"

namespace bitnet::convert {

CheckpointWeights CheckpointWeights::open(const std::string &folder) {
    CheckpointWeights weights;
    const std::string single = folder + "/model.safetensors";
    const std::string index_path = folder + "/model.safetensors.index.json";
    if (file_exists(single)) {
        weights.source_ = single;
        weights.shards_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(single)));
        return weights;
    }
    if (!file_exists(index_path)) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: neither model.safetensors nor model.safetensors.index.json exists",
             folder.c_str());
    }
    weights.source_ = index_path;
    const JsonFile index = read_json_file(index_path);
    auto map = index.root.find("weight_map");
    if (map == index.root.end() || !map->is_object() || map->empty()) {
        fail(BITNET_ERR_INVALID_MODEL, "%s: field 'weight_map' must be a non-empty object (tensor name -> shard file)",
             index_path.c_str());
    }
    std::map<std::string, bool> shard_names;
    for (auto it = map->begin(); it != map->end(); ++it) {
        if (!it->is_string()) {
            fail(BITNET_ERR_INVALID_MODEL, "%s: weight_map entry '%s' is not a file name string", index_path.c_str(),
                 it.key().c_str());
        }
        const std::string shard = it->get<std::string>();
        // Shards live beside the index: no folders, no way out of the checkpoint.
        if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
            fail(BITNET_ERR_INVALID_MODEL, "%s: weight_map entry '%s' names '%s', which is not a plain file name",
                 index_path.c_str(), it.key().c_str(), shard.c_str());
        }
        shard_names[shard] = true;
    }
    for (const auto &[shard, unused] : shard_names) {
        weights.shards_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(folder + "/" + shard)));
    }
    // A name in two shards would make the lookup ambiguous.
    std::map<std::string, std::string> owner;
    for (const auto &file : weights.shards_) {
        for (const auto &[name, tensor] : file->tensors()) {
            auto [it, inserted] = owner.emplace(name, file->path());
            if (!inserted) {
                fail(BITNET_ERR_INVALID_MODEL, "%s: tensor '%s' is in both '%s' and '%s'", index_path.c_str(),
                     name.c_str(), it->second.c_str(), file->path().c_str());
            }
        }
    }
    // Every tensor the index promises must be in the shard it names.
    for (auto it = map->begin(); it != map->end(); ++it) {
        const std::string shard_path = folder + "/" + it->get<std::string>();
        bool found = false;
        for (const auto &file : weights.shards_) {
            if (file->path() == shard_path && file->find(it.key())) found = true;
        }
        if (!found) {
            fail(BITNET_ERR_INVALID_MODEL, "%s: tensor '%s' is listed in shard '%s', which does not contain it",
                 index_path.c_str(), it.key().c_str(), shard_path.c_str());
        }
    }
    return weights;
}

const SafeTensor *CheckpointWeights::find(const std::string &name) const {
    for (const auto &file : shards_) {
        if (const SafeTensor *tensor = file->find(name)) return tensor;
    }
    return nullptr;
}

const SafeTensor &CheckpointWeights::require(const std::string &name) const {
    const SafeTensor *tensor = find(name);
    if (!tensor) fail(BITNET_ERR_INVALID_MODEL, "%s: tensor '%s' is missing", source_.c_str(), name.c_str());
    return *tensor;
}

std::vector<std::string> CheckpointWeights::names() const {
    std::vector<std::string> out;
    for (const auto &file : shards_) {
        for (const auto &[name, tensor] : file->tensors()) out.push_back(name);
    }
    return out;
}

}  // namespace bitnet::convert
