// The subcommand table: each subcommand lives in its own cmd_<name>.cpp and registers itself on
// the root CLI11 app. The registered callback returns the process exit code via CommandResult.
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace osp::cli {

// A subcommand's work, run after parsing; returns the exit code.
using CommandRun = std::function<int()>;

// Each registrar adds one subcommand to `app` and stores its run function in `run` when chosen.

}  // namespace osp::cli
