// The report's sections, each rendered as an HTML fragment (internal to src/report).
#pragma once
#include <string>
#include <vector>

#include "report/run_data.h"

namespace osp::report::detail {

std::string section_loss(const std::vector<RunData>& runs);
std::string section_outliers(const std::vector<RunData>& runs);
std::string section_layers(const std::vector<RunData>& runs);
std::string section_channels(const std::vector<RunData>& runs);
std::string section_quant(const std::vector<RunData>& runs);
std::string section_text(const std::vector<RunData>& runs);  // empty when no run has continuations
// Empty unless runs of one name come at two or more widths (model.hidden).
std::string section_scale(const std::vector<RunData>& runs);
std::string section_paper();
std::string section_provenance(const std::vector<RunData>& runs, const std::string& report_command);

// <section> with an id and an <h2> title (escaped).
std::string section(const char* id, const std::string& title, const std::string& body);
// A muted one-line note paragraph (escaped).
std::string note(const std::string& text);
// A table cell with escaped text and a CSS class ("num" right-aligns).
std::string cell(const std::string& text, const char* cls = "num");
// Relative perplexity increase of a quantized model over full precision, "+4.5%" (or an em dash).
std::string degradation(double fp, double q);
// Log scale when the positive values span two decades or more.
bool wants_log(const std::vector<double>& values);

}  // namespace osp::report::detail
