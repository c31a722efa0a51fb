// Ctrl-C / SIGTERM as a request to stop cleanly: long work polls stop_requested() at safe points
// (the trainer saves a checkpoint and exits). A second Ctrl-C kills the process as usual.
#pragma once

namespace osp {

void install_stop_handler();
bool stop_requested();
void request_stop();  // the same as a signal (tests)

}  // namespace osp
