#!/bin/sh
# callgrind-delta.sh - instructions per unit of work, from two runs.
#
#   callgrind-delta.sh PROG OUTDIR N1 N2 TOP [ARGS...]
#
# Runs `PROG N ARGS...` under valgrind --tool=callgrind for N = N1 and
# N = N2 (callgrind.out.<args>.<N> and the annotations in OUTDIR), and
# prints (Ir(N2) - Ir(N1)) / (N2 - N1): for the whole program, inclusive
# for the functions named in PERF_INCL (the bench's parts), and the TOP
# functions by self cost. Everything the program does the same number of
# times for any N cancels out.
#
# Functions are matched by name: callgrind splits one function into
# several entries when inlined code comes from other files (file:fn); self
# costs of the entries add up, the inclusive cost is the largest entry's
# (the others are nested in it).
set -eu

prog=$1 out=$2 n1=$3 n2=$4 top=$5
shift 5
tag=$(echo "$*" | tr ' ' '-')
: "${PERF_INCL:=rx_stream patch_frame inject netdev_input tcp_input checksum_nbuf tcp_output fake_xmit sink_xmit check_acks loop_pass net_next_deadline net_tick}"

mkdir -p "$out"
for n in "$n1" "$n2"; do
	f="$out/callgrind.out.$tag.$n"
	if ! valgrind --tool=callgrind --callgrind-out-file="$f" "$prog" "$n" "$@" \
		>"$out/log.$tag.$n" 2>&1; then
		cat "$out/log.$tag.$n" >&2
		echo "callgrind-delta.sh: $prog $n $* failed" >&2
		exit 1
	fi
	callgrind_annotate --auto=no --threshold=100 "$f" >"$f.self"
	callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$f" >"$f.incl"
done

f1="$out/callgrind.out.$tag.$n1" f2="$out/callgrind.out.$tag.$n2"
echo "== $(basename "$prog") $*: N = $n1, $n2"
grep -v '^==' "$out/log.$tag.$n2" | sed 's/^/   /'

awk -v n1="$n1" -v n2="$n2" -v top="$top" -v incl="$PERF_INCL" '
	# A line of callgrind_annotate: "  1,234 (12.34%)  file:fn [obj]".
	function parse(line) {
		if (line !~ /^ *[0-9,]+ +\( *[0-9.]+%\) +/)
			return 0
		cost = line
		sub(/^ */, "", cost)
		sub(/ .*/, "", cost)
		gsub(/,/, "", cost)
		cost += 0
		fn = line
		sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", fn)
		sub(/ \[[^]]*\]$/, "", fn)
		if (fn == "PROGRAM TOTALS")
			return 0
		sub(/^[^:]*:/, "", fn)
		return 1
	}
	FNR == 1 { file++ }
	file == 1 || file == 2 {            # summaries
		if ($1 == "summary:")
			tot[file] = $2
		next
	}
	file == 3 || file == 4 {            # self costs, N1 then N2
		if (parse($0)) {
			self[file - 2, fn] += cost
			names[fn] = 1
		}
		next
	}
	{                                   # inclusive costs, N1 then N2
		if (parse($0) && cost > inc[file - 4, fn])
			inc[file - 4, fn] = cost
	}
	END {
		d = n2 - n1
		printf "   Ir: %d (N=%d), %d (N=%d)\n", tot[1], n1, tot[2], n2
		printf "   per segment: %.1f instructions (whole program)\n", (tot[2] - tot[1]) / d
		printf "   inclusive per segment:\n"
		k = split(incl, want, " ")
		for (i = 1; i <= k; i++)
			if ((2, want[i]) in inc)
				printf "     %9.1f  %s\n", (inc[2, want[i]] - inc[1, want[i]]) / d, want[i]
		printf "   top %d functions by self cost per segment:\n", top
		n = 0
		for (f in names) {
			v = (self[2, f] - self[1, f]) / d
			if (v > 0.05 || v < -0.05) {
				key[++n] = f
				val[n] = v
			}
		}
		for (i = 2; i <= n; i++)            # insertion sort, descending
			for (j = i; j > 1 && val[j] > val[j - 1]; j--) {
				t = val[j]; val[j] = val[j - 1]; val[j - 1] = t
				t = key[j]; key[j] = key[j - 1]; key[j - 1] = t
			}
		for (i = 1; i <= n && i <= top; i++)
			printf "     %9.1f  %5.1f%%  %s\n", val[i], 100 * val[i] * d / (tot[2] - tot[1]), key[i]
	}
' "$f1" "$f2" "$f1.self" "$f2.self" "$f1.incl" "$f2.incl"
