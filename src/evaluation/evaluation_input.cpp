#include "mgap/evaluation_input.hpp"

#include <fmt/format.h>

#include <set>

#include "mgap/error.hpp"
#include "mgap/magnification.hpp"

namespace mgap {
namespace {

std::vector<std::string> groups_of(const EmbeddingSet& set, std::vector<std::string>& warnings) {
  if (!set.groups.empty()) {
    return set.groups;
  }
  if (!set.tile_ids.empty()) {
    warnings.push_back(fmt::format(
        "the embeddings at {} mpp have no group ids, so each tile id is its own group; tiles of one "
        "slide may then fall in different folds (add a group column with slide or patient ids)",
        format_mpp(set.mpp)));
    return set.tile_ids;
  }
  throw InputError(fmt::format(
      "the embeddings at {} mpp have neither group ids nor tile ids; folds need the slide or "
      "patient of every tile (add a group column to the rows CSV)",
      format_mpp(set.mpp)));
}

std::vector<std::string> labels_of(const EmbeddingSet& set, const std::vector<std::string>& groups,
                                   const std::map<std::string, std::string>& label_of_group) {
  if (!set.labels.empty()) {
    return set.labels;
  }
  if (label_of_group.empty()) {
    throw InputError(fmt::format(
        "the embeddings at {} mpp have no labels; add a label column to the rows CSV or give a "
        "labels.csv with a label_id per slide",
        format_mpp(set.mpp)));
  }
  std::vector<std::string> labels;
  for (const auto& group : groups) {
    const auto found = label_of_group.find(group);
    if (found == label_of_group.end() || found->second.empty()) {
      throw InputError(fmt::format(
          "the embeddings at {} mpp have no labels and group '{}' has no label_id in the labels "
          "table; add it there",
          format_mpp(set.mpp), group));
    }
    labels.push_back(found->second);
  }
  return labels;
}

}  // namespace

EvaluationInput evaluation_input_from_bundle(
    const EmbeddingBundle& bundle, const std::map<std::string, std::string>& label_of_group) {
  EvaluationInput input;
  std::vector<std::vector<std::string>> names_per_set;
  std::vector<std::vector<std::string>> groups_per_set;
  std::set<std::string> all_names;
  for (const EmbeddingSet& set : bundle.sets) {
    groups_per_set.push_back(groups_of(set, input.warnings));
    names_per_set.push_back(labels_of(set, groups_per_set.back(), label_of_group));
    all_names.insert(names_per_set.back().begin(), names_per_set.back().end());
  }
  input.class_names.assign(all_names.begin(), all_names.end());
  std::map<std::string, int> index_of;
  for (std::size_t c = 0; c < input.class_names.size(); ++c) {
    index_of[input.class_names[c]] = static_cast<int>(c);
  }

  for (std::size_t s = 0; s < bundle.sets.size(); ++s) {
    MppEmbeddings set;
    set.mpp = bundle.sets[s].mpp;
    set.embeddings = bundle.sets[s].embeddings;
    for (const auto& name : names_per_set[s]) {
      set.labels.push_back(index_of.at(name));
    }
    set.groups = std::move(groups_per_set[s]);
    input.sets.push_back(std::move(set));
  }
  return input;
}

}  // namespace mgap
