#pragma once

// Conversion of an embedding bundle into the labelled per-mpp input of the evaluation protocol.
//
// Class names become class indices in sorted order (as scikit-learn's LabelEncoder), so class 0 is
// the alphabetically first name. Group ids come from the bundle; without them the tile id is used
// as the group. Each tile then keeps one fold at every mpp, but tiles of one slide may be split
// across folds and leak slide identity, so a warning is added.

#include <map>
#include <string>
#include <vector>

#include "mgap/embedding_bundle.hpp"
#include "mgap/evaluation_protocol.hpp"

namespace mgap {

struct EvaluationInput {
  std::vector<MppEmbeddings> sets;       // one per mpp of the bundle, increasing mpp
  std::vector<std::string> class_names;  // [num_classes], sorted
  std::vector<std::string> warnings;
};

// Converts `bundle`. A set without labels takes each tile's label from `label_of_group` (for
// example the label_id column of a TCGA-MS labels.csv) through its group. Throws InputError for a
// set without labels and no usable label_of_group (naming the mpp and, for a group missing from
// the map, the group), or a set without group ids and tile ids.
EvaluationInput evaluation_input_from_bundle(
    const EmbeddingBundle& bundle, const std::map<std::string, std::string>& label_of_group = {});

}  // namespace mgap
