// The subcommand table: each subcommand lives in its own cmd_<name>.cpp and registers itself on
// the root CLI11 app. The registered callback returns the process exit code via CommandResult.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace osp::cli {

// A subcommand's work, run after parsing; returns the exit code.
using CommandRun = std::function<int()>;

// Each registrar adds one subcommand to `app` and stores its run function in `run` when chosen.
void register_data(CLI::App& app, CommandRun& run);      // osp data prepare, info (cmd_data.cpp)
void register_tokenize(CLI::App& app, CommandRun& run);  // osp tokenize, detokenize (cmd_tokenize.cpp)
void register_train(CLI::App& app, CommandRun& run);     // osp train (cmd_train.cpp)
void register_eval(CLI::App& app, CommandRun& run);      // osp eval ppl, kurtosis, quant, table (cmd_eval.cpp)
void register_eval_logits(CLI::App& eval, CommandRun& run);  // osp eval logits (cmd_eval_logits.cpp)
void register_eval_outliers(CLI::App& eval, CommandRun& run);  // osp eval outliers (cmd_eval_outliers.cpp)
void register_export(CLI::App& app, CommandRun& run);    // osp export hf|gguf (cmd_export.cpp)
void register_import(CLI::App& app, CommandRun& run);    // osp import hf (cmd_import.cpp)
void register_info(CLI::App& app, CommandRun& run);      // osp info (cmd_info.cpp)
void register_report(CLI::App& app, CommandRun& run);    // osp report (cmd_report.cpp)
void register_demo(CLI::App& app, CommandRun& run);      // osp demo (cmd_demo.cpp)
void register_generate(CLI::App& app, CommandRun& run);  // osp generate (cmd_generate.cpp)

}  // namespace osp::cli
