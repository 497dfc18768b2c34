# The curves of a soak run (benches/soak.sh): four panels over time from its CSV.
#   gnuplot -e "csv='soak.csv'; png='soak.png'; title='…'; warmup=600; store='redis'" benches/soak_plot.gp
# (store: '' for the memory backend, else the store whose memory is column 6).
# Columns: 1 t_s, 2 rss_kib, 3 fds, 4 peers, 5 torrents, 6 store_kib, 7 requests, 8 errors,
# 9 probe_p50_ms, 10 probe_p99_ms, 11 probe_errors. The shaded band is the warm-up.

set terminal png size 820,580 font "DejaVuSans,8"  # libgd: an 8-bit palette, small files
set output png
set datafile separator ","
set key bottom right opaque box
set grid
set offsets 0, 0, graph 0.15, 0
set xlabel "minutes"
set xrange [0:*]
set multiplot layout 2,2 title title font "sans,11"

w = warmup / 60.0

set title "resident memory (MiB)"
set yrange [0:*]
set object 1 rect from 0, graph 0 to w, graph 1 fc rgb "gray" fs transparent solid 0.15 noborder behind
if (store eq "") {
    plot csv using ($1/60):($2/1024) skip 1 with lines lw 1.5 title "tracker VmRSS"
} else {
    plot csv using ($1/60):($2/1024) skip 1 with lines lw 1.5 title "tracker VmRSS", \
         csv using ($1/60):($6/1024) skip 1 with lines lw 1.5 title store
}

set title "tracker open file descriptors"
plot csv using ($1/60):3 skip 1 with lines lw 1.5 title "fds"

set title "swarms (/stats)"
plot csv using ($1/60):4 skip 1 with lines lw 1.5 title "peers", \
     csv using ($1/60):5 skip 1 with lines lw 1.5 title "torrents"

set title "probe latency per window (ms)"
set logscale y
set yrange [*:*]
plot csv using ($1/60):9 skip 1 with lines lw 1.5 title "p50", \
     csv using ($1/60):10 skip 1 with lines lw 1.5 title "p99"

unset multiplot
