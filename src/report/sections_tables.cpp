// The table sections of the report: our quantization results, the paper's ablation numbers, and
// the provenance (commands and configs).
#include <fmt/format.h>

#include <cmath>

#include "report/escape.h"
#include "report/paper_numbers.h"
#include "report/report.h"
#include "report/sections.h"

namespace osp::report::detail {
std::string cell(const std::string& text, const char* cls) {
  return fmt::format("<td class=\"{}\">{}</td>", cls, html_escape(text));
}

// Relative perplexity increase of a quantized model over full precision, in percent.
std::string degradation(double fp, double q) {
  if (!(fp > 0) || !std::isfinite(q)) return format_number(NAN);
  const double d = (q / fp - 1) * 100;
  // Whole percent from 100% up: a decimal there is noise.
  const std::string number =
      std::fabs(d) >= 100 && std::fabs(d) < 1e4 ? fmt::format("{:.0f}", d) : format_number(d, 3);
  return fmt::format("{}{}%", d >= 0 ? "+" : "", number);
}

namespace {

std::string quant_row(const RunData& r) {
  const std::string recipe = r.config ? recipe_of(*r.config) : "";
  std::string row =
      "<tr>" + cell(r.name, "name") + cell(recipe.empty() ? format_number(NAN) : recipe, "name");
  if (!r.eval) return row + "<td class=\"note\" colspan=\"11\">no eval.json</td></tr>";
  const EvalResults& e = *r.eval;
  std::string max_act = format_number(e.max_act_ratio);
  if (e.max_act_channel >= 0 && std::isfinite(e.max_act_ratio))
    max_act += fmt::format(" (ch {})", e.max_act_channel);
  return row + cell(format_number(e.ppl_fp)) + cell(format_number(e.ppl_rtn)) +
         cell(degradation(e.ppl_fp, e.ppl_rtn)) + cell(format_number(e.ppl_had)) +
         cell(degradation(e.ppl_fp, e.ppl_had)) + cell(format_number(e.kurtosis_token)) +
         cell(format_number(e.kurtosis_sequence)) + cell(max_act) + cell(degradation(e.ppl_fp, e.ppl_w4)) +
         cell(degradation(e.ppl_fp, e.ppl_a4)) + cell(degradation(e.ppl_fp, e.ppl_kv4)) + "</tr>";
}

// The JSON pretty-printed without throwing: invalid UTF-8 in a string becomes U+FFFD.
std::string pretty(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string section_quant(const std::vector<RunData>& runs) {
  std::string t =
      "<table class=\"results\"><thead><tr><th>run</th><th>recipe</th><th>FP PPL</th><th>W4A4KV4 "
      "RTN PPL</th>"
      "<th>&Delta;</th><th>W4A4KV4 +FFN-Had PPL</th><th>&Delta;</th><th>ex. kurtosis (token)</th>"
      "<th>ex. kurtosis (sequence)</th><th>max |act| / RMS</th>"
      "<th>&Delta; W4 only</th><th>&Delta; A4 only</th><th>&Delta; KV4 only</th></tr></thead><tbody>";
  for (const auto& r : runs) t += quant_row(r);
  t += "</tbody></table>";
  std::string sites;
  for (const auto& r : runs) {
    if (!r.eval || r.eval->costliest_sites.empty()) continue;
    sites += "<tr>" + cell(r.name, "name");
    for (const auto& [name, cost] : r.eval->costliest_sites)
      sites += cell(fmt::format("{} ({}%)", name, format_number(100 * cost, 3)), "name");
    sites += "</tr>";
  }
  if (!sites.empty())
    t += note("The sites whose 4-bit quantization alone costs most (osp eval outliers: one input or weight at 4 "
              "bits, everything else at full precision), with the perplexity increase each causes.") +
         "<table class=\"results\"><thead><tr><th>run</th><th>costliest</th><th>second</th><th>third</th></tr>"
         "</thead><tbody>" + sites + "</tbody></table>";
  const std::string intro = note(
      "Ours, measured by osp eval on each run's validation data. PPL: perplexity at full precision "
      "(FP) and with 4-bit "
      "weights, activations and KV cache (W4A4KV4, round-to-nearest), without and with the online "
      "Hadamard rotation "
      "before the FFN down projection. \xCE\x94: perplexity increase over FP. Excess kurtosis of "
      "the hidden states "
      "(token and sequence protocols, measurement.md \xC2\xA7"
      "1); max |act| / RMS: the largest activation relative "
      "to the RMS of its hidden state, with its channel. The last three columns split the RTN "
      "\xCE\x94: weights alone (W4A16KV16), activations alone (W16A4KV16), K and V alone (W16A16KV4).");
  return section("quant", kSectionQuant, intro + t);
}

std::string section_text(const std::vector<RunData>& runs) {
  std::string rows, prompt;
  for (const auto& r : runs) {
    if (!r.eval || r.eval->prompt.empty()) continue;
    prompt = r.eval->prompt;
    rows += "<tr>" + cell(r.name, "name") + cell(r.eval->continuation_fp, "text") +
            cell(r.eval->continuation_w4a4kv4, "text") + "</tr>";
  }
  if (rows.empty()) return "";
  const std::string intro = note(
      "Greedy continuation of the prompt \u201c" + prompt +
      "\u201d by each run's model, at full precision and with 4-bit weights, activations and KV cache "
      "(W4A4KV4, round-to-nearest, no rotation), KV-cached as osp generate decodes.");
  return section("text", kSectionText,
                 intro + "<table class=\"results\"><thead><tr><th>run</th><th>FP</th><th>W4A4KV4 RTN</th></tr></thead><tbody>" +
                     rows + "</tbody></table>");
}

std::string section_paper() {
  std::string t =
      "<table class=\"results paper\"><thead><tr><th>paper model</th><th>osp recipe</th><th>ex. "
      "kurtosis (token)</th>"
      "<th>FP PPL</th><th>W4A4KV4 PPL (\xE2\x9C\x97 Had)</th><th>W4A4KV4 PPL (\xE2\x9C\x94 "
      "Had)</th></tr></thead><tbody>";
  for (const auto& p : paper_ablation())
    t += "<tr>" + cell(p.model, "name") + cell(p.recipe, "name") + cell(p.kurtosis) +
         cell(p.ppl_fp) + cell(p.ppl_w4a4kv4) + cell(p.ppl_w4a4kv4_had) + "</tr>";
  t += "</tbody></table>";
  const std::string intro = note(
      "NOT OUR MEASUREMENTS. Published by Park et al. (2025) for 1.4B-parameter models trained on "
      "100B tokens "
      "(WikiText-2 perplexity; osp-method.md \xC2\xA7"
      "4.2), shown only to orient the reader: the runs above are far "
      "smaller and shorter, so expect the same ordering at best, not the same magnitudes.");
  // Say where the gap shows rather than let a small demo gap stand for the method.
  const std::string scale = note(
      "At demo scale (a few million parameters and tokens) Adam's outliers stay small, so its 4-bit "
      "loss is small too; the paper's gap needs its scale. Its 1.4B configuration: "
      "`osp train configs/osp-1.4b.toml` (OSP) and the same with `--set optim.groups=adam --set "
      "model.norm=rms --set model.emb_proj=false` (Adam). That is GPU work: 100B tokens are about "
      "8e20 FLOPs, decades on a 2-core CPU, and osp's CUDA backend is not built yet.");
  return section("paper", kSectionPaper, intro + t + scale);
}

std::string section_provenance(const std::vector<RunData>& runs,
                               const std::string& report_command) {
  std::string body;
  if (!report_command.empty())
    body += "<p>This report: <code>" + html_escape(report_command) + "</code></p>";
  for (const auto& r : runs) {
    body += "<div class=\"run\"><h3>" + html_escape(r.name) +
            "</h3><p class=\"muted\">folder <code>" + html_escape(r.dir.string()) + "</code></p>";
    if (r.eval && !r.eval->command.empty())
      body += "<p>evaluation command:</p><pre>" + html_escape(r.eval->command) + "</pre>";
    if (r.config)
      body += "<details><summary>config.json</summary><pre>" + html_escape(pretty(*r.config)) +
              "</pre></details>";
    else
      body += note("no readable config.json");
    body += "</div>";
  }
  return section("provenance", kSectionProvenance, body);
}

}  // namespace osp::report::detail
