-- post.lua - wrk script of the upload workload: every request POSTs a body
-- of BENCH_POST_BYTES bytes (default 32768) to the URL wrk was given.
wrk.method = "POST"
wrk.body = string.rep("k", tonumber(os.getenv("BENCH_POST_BYTES") or "32768"))
wrk.headers["Content-Type"] = "application/octet-stream"
