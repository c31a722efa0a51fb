// printable(): makes untrusted text (tensor names, parser messages) safe to put inside a one-line
// error message: control bytes are escaped and long text is shortened.
#pragma once
#include <string>
#include <string_view>

namespace osp::io {

// Escapes bytes below 0x20 and 0x7f as \xNN (and, with ascii_only, every byte >= 0x80 too, for
// text that may not be valid UTF-8), and cuts the text after max_len bytes with "...".
std::string printable(std::string_view text, size_t max_len = 120, bool ascii_only = false);

}  // namespace osp::io
