// safetensors (spec formats.md §1): the reader, the writer and the dtype table in one include.
#pragma once
#include "io/safetensors_dtype.h"
#include "io/safetensors_header.h"
#include "io/safetensors_reader.h"
#include "io/safetensors_writer.h"
