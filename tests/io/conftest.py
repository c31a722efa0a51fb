"""pytest configuration for tests/io. The interop tests under interop/ are their own ctest entry
(io_interop); the io_safetensors_interop entry, which runs this folder, skips them so they do not
run twice."""
import sys

collect_ignore = [] if any(arg.rstrip("/").endswith("interop") for arg in sys.argv[1:]) else ["interop"]
