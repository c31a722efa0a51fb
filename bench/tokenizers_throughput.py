"""Reference side of bench_tokenizer: encoding throughput of the Hugging Face `tokenizers`
package on the same documents. Usage: tokenizers_throughput.py TOKENIZER DOCS.jsonl THREADS REPEATS
Prints one JSON line: {"seconds": best wall time, "bytes": ..., "tokens": ...}."""
import json
import os
import sys
import time

# Rayon reads this when its thread pool starts, so it must be set before the first batch call.
os.environ["RAYON_NUM_THREADS"] = sys.argv[3]
from tokenizers import Tokenizer  # noqa: E402

tok = Tokenizer.from_file(sys.argv[1])
docs = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")]
total_bytes = sum(len(d.encode("utf-8")) for d in docs)
best, tokens = float("inf"), 0
for _ in range(int(sys.argv[4])):
    start = time.perf_counter()
    encodings = tok.encode_batch(docs, add_special_tokens=False)
    best = min(best, time.perf_counter() - start)
    tokens = sum(len(e.ids) for e in encodings)
print(json.dumps({"seconds": best, "bytes": total_bytes, "tokens": tokens}))
