// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network) comparing
// runs: loss curves, outlier statistics over training, per-layer kurtosis, the last layer's
// per-channel max |activation|, the quantization table beside the paper's, the trend over model
// widths when runs of one recipe come at several, and the commands and
// configs that produced it.
//   std::vector<RunData> runs = ...;  // read_run(dir) per folder
//   std::string html = render_report(runs, {.title = "Adam vs OSP"});
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "report/run_data.h"

namespace osp::report {

struct ReportOptions {
  std::string title = "osp report";
  std::string command;  // the command line that made the report, shown in its provenance section
  std::vector<std::string> sections;  // section ids to render, in page order regardless (empty: all)
};

// Section ids for ReportOptions::sections, in page order.
std::vector<std::string> section_ids();

// Section titles, in page order (tests look for them).
inline constexpr const char* kSectionLoss = "Loss curves";
inline constexpr const char* kSectionOutliers = "Outlier watch during training";
inline constexpr const char* kSectionLayers = "Per-layer kurtosis";
inline constexpr const char* kSectionChannels = "Last-layer channel max |activation|";
inline constexpr const char* kSectionQuant = "Quantization";
inline constexpr const char* kSectionScale = "Scale trend";
inline constexpr const char* kSectionText = "What 4 bits do to the text";
inline constexpr const char* kSectionPaper =
    "Paper numbers (Park et al. 2025), for orientation only";
inline constexpr const char* kSectionProvenance = "Commands and configs";
inline constexpr const char* kSectionNotes = "Input notes";

std::string render_report(const std::vector<RunData>& runs, const ReportOptions& options);

// Writes the page; the error names the file.
Status write_text_file(const std::filesystem::path& path, const std::string& text);

}  // namespace osp::report
