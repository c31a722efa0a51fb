// Text helpers for the HTML report: escaping every string that reaches the page, and compact
// number formatting for tables and axis labels.
#pragma once
#include <string>
#include <string_view>

namespace osp::report {

// Escapes & < > " ' so the text is safe both as element content and inside a quoted attribute.
// Bytes that are not valid UTF-8 and control characters other than \t \n \r become U+FFFD, so a
// corrupt name cannot break the document's encoding.
std::string html_escape(std::string_view text);

// A number for a table cell: NaN gives an em dash; |v| >= 1e4 or < 1e-3 use scientific notation
// ("8e+04" becomes "8e4"); hundreds and above one decimal; otherwise `digits` significant digits.
std::string format_number(double v, int digits = 4);

}  // namespace osp::report
