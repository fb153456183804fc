#pragma once

// Tile file names of the TCGA-MS and BRACS-MS multi-magnification benchmarks, and the BRACS
// slide-to-patient table. Shared by the slide module (reading benchmark folders of PNG tiles) and
// the evaluation module (reading embeddings keyed by those tile names).
//
// TCGA-MS tiles are named `{slide}_{x}_{y}.png`; the slide id may itself contain underscores, so
// the last two `_`-separated fields are the coordinates. BRACS-MS tiles are named
// `BRACS_{wsi}_{subtype}_{n}.png` with subtypes N, PB, UDH, FEA, ADH, DCIS, IC (label ids 0 to 6 in
// that order).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mgap {

// The seven BRACS subtypes in label order.
const std::vector<std::string>& bracs_subtypes();

struct TcgaTileName {
  std::string slide_id;
  long long x = 0;
  long long y = 0;
};

// Splits a file stem "{slide}_{x}_{y}" (no extension). Returns nullopt when the stem lacks two
// integer coordinates or the slide part is empty.
std::optional<TcgaTileName> parse_tcga_tile_name(const std::string& stem);

struct BracsTileName {
  std::string wsi_id;   // the `{wsi}` field, without the "BRACS_" prefix
  std::string subtype;  // as written
  int label_id = -1;    // index in bracs_subtypes(); -1 for an unknown subtype
  std::string index;    // the `{n}` field
};

// Splits a file stem "BRACS_{wsi}_{subtype}_{n}" (no extension). Returns nullopt when the stem
// does not have these four non-empty fields; an unknown subtype is returned with label_id -1 so
// that callers can name it in their message.
std::optional<BracsTileName> parse_bracs_tile_name(const std::string& stem);

// Reads a CSV export of the BRACS slide-to-patient sheet with columns `wsi` and `patient` (any
// order, extra columns ignored). A `wsi` cell may be the bare id or "BRACS_{wsi}". Returns
// wsi id -> patient id. Throws InputError naming the file and line for a missing column, an
// empty cell, or a slide listed twice with different patients.
std::map<std::string, std::string> read_bracs_patient_table(const std::filesystem::path& path);

}  // namespace mgap
